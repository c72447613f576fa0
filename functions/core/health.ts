/**
 * The guide's health queries ("Using Web Queries to Obtain Connection Broker Status"):
 * - is_alive: CB_IS_OKAY only when the site database answers, every enabled authentication
 *   server is reachable and the 1-minute load average is at most the limit (4 by default);
 * - cb_status: CB_IS_OKAY when the database answers, else an ERROR_MESSAGE (always HTTP 200).
 * Every check has a short timeout so a dead dependency answers quickly instead of hanging.
 *
 * The answers go to anyone who asks (an internet-facing load balancer): a reason names the
 * part ("site database", an authentication server's configured name) and the kind of failure,
 * never an address, port, account or database name. The full error is in `details`, for the log.
 */

import type { AuthServerConfig } from './site-config/schema.ts';

export const OKAY = 'CB_IS_OKAY';

export interface HealthVerdict {
  readonly ok: boolean;
  /** Why it is not okay, safe to show anyone; empty when ok. */
  readonly reasons: readonly string[];
  /** The same failures with the probes' own error text (addresses, accounts): for the log only. */
  readonly details: readonly string[];
}

/** The kinds of failure a health answer may name. */
export const FAILURE_KINDS = {
  timeout: 'no answer in time',
  connection_refused: 'connection refused',
  host_unreachable: 'host not reachable',
  name_not_resolved: 'host name not found',
  connection_lost: 'connection lost',
  login_rejected: 'login rejected',
  no_such_database: 'database missing',
  starting_up: 'starting up or shutting down',
  too_many_connections: 'too many connections',
  tls: 'TLS handshake failed',
  secret_unavailable: 'stored password cannot be decrypted',
  query_failed: 'query failed',
  unknown: 'unexpected error',
} as const;

export type FailureKind = keyof typeof FAILURE_KINDS;

/**
 * A probe's failure: its kind (safe to show) and the original error (for the log). Probes
 * reject with it; anything else a probe throws counts as `unknown`.
 */
export class ProbeFailure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, cause?: unknown) {
    super(FAILURE_KINDS[kind], { cause });
    this.name = 'ProbeFailure';
    this.kind = kind;
  }
}

export interface HealthLimits {
  readonly maxLoad: number;
  readonly timeoutMs: number;
}

/** Rejects with a `timeout` {@link ProbeFailure} when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ProbeFailure('timeout', new Error(`${label} did not answer within ${ms} ms`))),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The kind of a failure, in words safe to show anyone. */
const kindOf = (e: unknown): string =>
  FAILURE_KINDS[e instanceof ProbeFailure ? e.kind : 'unknown'];

/** The whole error, causes included, for the log. */
function detailOf(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c !== undefined && parts.length < 5; ) {
    parts.push(c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join(': ');
}

/** The `is_alive` verdict. */
export async function isAlive(probes: HealthProbes, limits: HealthLimits): Promise<HealthVerdict> {
  const reasons: string[] = [];
  const details: string[] = [];
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
        const what = `authentication server "${servers[i]!.name}" is not reachable`;
        reasons.push(`${what} (${kindOf(r.reason)})`);
        details.push(`${what}: ${detailOf(r.reason)}`);
      }
    });
  } catch (e: unknown) {
    reasons.unshift(`site database is not reachable (${kindOf(e)})`);
    details.unshift(`site database is not reachable: ${detailOf(e)}`);
  }
  return { ok: reasons.length === 0, reasons, details };
}

/** The `cb_status` verdict: the site database only. */
export async function cbStatus(probes: HealthProbes, limits: HealthLimits): Promise<HealthVerdict> {
  try {
    await withTimeout(probes.pingDatabase(), limits.timeoutMs, 'site database');
    return { ok: true, reasons: [], details: [] };
  } catch (e: unknown) {
    return {
      ok: false,
      reasons: [`site database is not reachable (${kindOf(e)})`],
      details: [`site database is not reachable: ${detailOf(e)}`],
    };
  }
}

/** Checks the health verdicts of the guide's `is_alive` need. */
export interface HealthProbes {
  /** Resolves when the site database answers a trivial query; else rejects with a {@link ProbeFailure}. */
  pingDatabase(): Promise<void>;
  /** The enabled authentication servers, read from the site database. */
  enabledAuthServers(): Promise<AuthServerConfig[]>;
  /** Resolves when the server answers (a TCP/TLS connect to its address); else rejects with a {@link ProbeFailure}. */
  probeAuthServer(server: AuthServerConfig): Promise<void>;
  /** The 1-minute load average of this broker. */
  loadAverage(): number;
}
