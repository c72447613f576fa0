/**
 * The guide's health queries ("Using Web Queries to Obtain Connection Broker Status"):
 * - is_alive: CB_IS_OKAY only when the site database answers, every enabled authentication
 *   server is reachable and the 1-minute load average is at most the limit (4 by default);
 * - cb_status: CB_IS_OKAY when the database answers, else an ERROR_MESSAGE (always HTTP 200).
 * Every check has a short timeout so a dead dependency answers quickly instead of hanging.
 */

import type { AuthServerConfig } from './site-config/schema.ts';

export const OKAY = 'CB_IS_OKAY';

export interface HealthVerdict {
  readonly ok: boolean;
  /** Why it is not okay; empty when ok. */
  readonly reasons: readonly string[];
}

export interface HealthLimits {
  readonly maxLoad: number;
  readonly timeoutMs: number;
}

/** Rejects with `label` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The `is_alive` verdict. */
export async function isAlive(probes: HealthProbes, limits: HealthLimits): Promise<HealthVerdict> {
  const reasons: string[] = [];
  const load = probes.loadAverage();
  if (load > limits.maxLoad) {
    reasons.push(`load average ${load.toFixed(2)} is above ${limits.maxLoad}`);
  }
  try {
    await withTimeout(probes.pingDatabase(), limits.timeoutMs, 'site database');
    const servers = await withTimeout(
      probes.enabledAuthServers(),
      limits.timeoutMs,
      'site database',
    );
    const results = await Promise.allSettled(
      servers.map((s) =>
        withTimeout(
          probes.probeAuthServer(s),
          limits.timeoutMs,
          `authentication server "${s.name}"`,
        ),
      ),
    );
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        reasons.push(
          `authentication server "${servers[i]!.name}" is not reachable (${reason(r.reason)})`,
        );
      }
    });
  } catch (e: unknown) {
    reasons.unshift(`site database is not reachable (${reason(e)})`);
  }
  return { ok: reasons.length === 0, reasons };
}

/** The `cb_status` verdict: the site database only. */
export async function cbStatus(probes: HealthProbes, limits: HealthLimits): Promise<HealthVerdict> {
  try {
    await withTimeout(probes.pingDatabase(), limits.timeoutMs, 'site database');
    return { ok: true, reasons: [] };
  } catch (e: unknown) {
    return { ok: false, reasons: [`site database is not reachable (${reason(e)})`] };
  }
}

/** Checks the health verdicts of the guide's `is_alive` need. */
export interface HealthProbes {
  /** Resolves when the site database answers a trivial query. */
  pingDatabase(): Promise<void>;
  /** The enabled authentication servers, read from the site database. */
  enabledAuthServers(): Promise<AuthServerConfig[]>;
  /** Resolves when the server answers (a TCP/TLS connect to its address). */
  probeAuthServer(server: AuthServerConfig): Promise<void>;
  /** The 1-minute load average of this broker. */
  loadAverage(): number;
}
