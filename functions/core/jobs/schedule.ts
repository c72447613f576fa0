/**
 * The periodic jobs and their idempotency keys. A key names the job and its period, so
 * every broker of a cluster that enqueues "this period's" job enqueues the same one, and the
 * queue keeps one. Shared by the local scheduler and the CDK schedules.
 */
import type { JobPayload } from './payload.ts';

export interface PeriodicJob {
  readonly job: JobPayload;
  readonly everySeconds: number;
}

/** The cluster-wide periodic jobs (the heartbeat, one per broker, is apart). */
export const PERIODIC_JOBS: readonly PeriodicJob[] = [
  { job: { kind: 'purge_records' }, everySeconds: 3600 },
  { job: { kind: 'refresh_pool' }, everySeconds: 60 },
  { job: { kind: 'check_gateway' }, everySeconds: 60 },
  { job: { kind: 'agent_timeout' }, everySeconds: 60 },
  { job: { kind: 'lease_upkeep' }, everySeconds: 900 },
];

/** The index of the period of `everySeconds` that `now` (epoch ms) falls in. */
export function periodIndex(now: number, everySeconds: number): number {
  return Math.floor(now / 1000 / everySeconds);
}

/** The key of a periodic job for the period `now` falls in: `kind[:scope]:every:index`. */
export function periodKey(kind: string, everySeconds: number, now: number, scope?: string): string {
  const what = scope === undefined ? kind : `${kind}:${scope}`;
  return `${what}:${everySeconds}:${periodIndex(now, everySeconds)}`;
}

/** This period's heartbeat job of broker `siteId`, pinned to it. */
export function heartbeatJob(
  siteId: number,
  heartbeatSeconds: number,
  now: number,
): { job: JobPayload; key: string; siteId: number } {
  return {
    job: { kind: 'heartbeat', siteId },
    key: periodKey('heartbeat', heartbeatSeconds, now, `site-${siteId}`),
    siteId,
  };
}
