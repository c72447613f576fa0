/**
 * The guide's "Removing Deleted Database Records": when each kind of record is purged.
 * - `log` entries after the log retention days (default 30);
 * - records marked deleted after 90 days plus the log retention;
 * - deleted and completed `work_queue` records after seven days;
 * - deleted `gateway_forward` entries after two days;
 * - deleted `user_session` entries (our `desktop_session`) after seven days.
 * (`license_history`, `pool_history`, `vc_host` and `ad_attribute` have no counterpart here.)
 */

const DAY_MS = 86_400_000;

/** Days a soft-deleted record is kept beyond the log retention. */
export const DELETED_RECORD_DAYS = 90;
export const WORK_QUEUE_DAYS = 7;
export const GATEWAY_FORWARD_DAYS = 2;
export const DESKTOP_SESSION_DAYS = 7;
/**
 * How long one purge run deletes before it stops (half the job function's two-minute
 * timeout); a larger backlog is finished by the next hourly runs.
 */
export const PURGE_BUDGET_MS = 60_000;

/** Rows older than these instants (epoch milliseconds) are purged. */
export interface PurgeCutoffs {
  /** `log.at` before this. */
  readonly log: number;
  /** `deleted_at` before this, for the soft-deleted configuration records. */
  readonly deleted: number;
  /** `finished_at` (or `deleted_at`) before this, for completed `work_queue` rows. */
  readonly workQueue: number;
  /** `deleted_at` before this, for `gateway_forward`. */
  readonly gatewayForward: number;
  /** `deleted_at` before this, for `desktop_session`. */
  readonly desktopSession: number;
}

/**
 * The cutoffs at `now` for a site that keeps its log `logRetentionDays` days.
 * @throws {RangeError} for a retention below one day.
 */
export function purgeCutoffs(now: number, logRetentionDays: number): PurgeCutoffs {
  if (!(logRetentionDays >= 1)) {
    throw new RangeError(`logRetentionDays must be at least 1, got ${logRetentionDays}`);
  }
  return {
    log: now - logRetentionDays * DAY_MS,
    deleted: now - (DELETED_RECORD_DAYS + logRetentionDays) * DAY_MS,
    workQueue: now - WORK_QUEUE_DAYS * DAY_MS,
    gatewayForward: now - GATEWAY_FORWARD_DAYS * DAY_MS,
    desktopSession: now - DESKTOP_SESSION_DAYS * DAY_MS,
  };
}
