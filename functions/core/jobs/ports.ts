/**
 * Ports of the job system: the job ledger (the `work_queue` table: one row per job, its
 * status and history), the cluster's broker records, and the stores the built-in job bodies
 * work on. Times are epoch milliseconds.
 */

import type { PortRange } from '../gateways/port-range.ts';
import type { GatewayEndpoint } from '../gateways/ports.ts';
import type { SiteSettings } from '../site-config/schema.ts';
import type { JobPayload } from './payload.ts';
import type { PurgeCutoffs } from './purge.ts';

/** The statuses of the guide's Job Queue page. */
export const JOB_STATUSES = [
  'pending',
  'running',
  'finished',
  'cancelled',
  'aborted',
  'deferred',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One row of the job-queue view. */
export interface JobRecord {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly idempotencyKey: string | null;
  readonly status: JobStatus;
  /** The broker that runs or ran it; for a pending job, the only broker that may run it. */
  readonly siteId: number | null;
  readonly attempts: number;
  readonly runAfter: number;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: string | null;
}

/** A job this broker has just marked running. `attempts` counts this run. */
export interface ClaimedJob {
  readonly id: number;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly attempts: number;
  /** As stored; the runner validates it. */
  readonly payload: unknown;
}

export interface JobFilter {
  readonly status?: JobStatus;
  readonly kind?: string;
  readonly siteId?: number;
  readonly limit: number;
  /** Only jobs older than this id (the next page of the newest-first list). */
  readonly beforeId?: number;
}

/** The job queue in numbers (the console's overview). */
export interface JobQueueSummary {
  readonly counts: Readonly<Record<JobStatus, number>>;
  /** The pending job created first, if any. */
  readonly oldestPending:
    | {
        readonly id: number;
        readonly kind: string;
        readonly createdAt: number;
        readonly runAfter: number;
      }
    | undefined;
}

/** Counts the job queue. */
export interface JobSummarySource {
  summary(): Promise<JobQueueSummary>;
}

/** The `work_queue` table: the record of every job, and the local brokers' shared queue. */
export interface JobLedger {
  /**
   * Records a pending job. Resolves false (and changes nothing) when the key is known.
   * `siteId` pins the job to one broker.
   */
  record(
    job: JobPayload,
    key: string,
    options?: { runAt?: number; siteId?: number },
  ): Promise<boolean>;
  /**
   * Marks the job with `key` running on `siteId`, in one statement, creating its row when
   * the producer wrote none. Resolves undefined when the job is finished, cancelled,
   * aborted, or running elsewhere for less than `staleAfterMs`: a duplicate delivery.
   */
  start(
    key: string,
    job: JobPayload,
    siteId: number,
    staleAfterMs: number,
  ): Promise<ClaimedJob | undefined>;
  /**
   * Takes up to `limit` ready jobs (pending or deferred, due, unpinned or pinned to
   * `siteId`; or running for longer than `staleAfterMs`) and marks them running on `siteId`.
   * Concurrent callers never get the same job (`FOR UPDATE SKIP LOCKED`). With `kind`,
   * only jobs of that kind.
   */
  claim(siteId: number, limit: number, staleAfterMs: number, kind?: string): Promise<ClaimedJob[]>;
  /** Marks a claimed job finished; false when another broker has taken it over since. */
  finish(job: ClaimedJob, siteId: number): Promise<boolean>;
  /** Records a failure: deferred until `retryAt`, or aborted when `retryAt` is undefined. */
  fail(job: ClaimedJob, siteId: number, error: string, retryAt: number | undefined): Promise<void>;
  /** The job-queue view, newest first. */
  list(filter: JobFilter): Promise<JobRecord[]>;
}

/** Who a broker is, as the cluster view shows it. */
export interface BrokerIdentity {
  readonly siteId: number;
  readonly uuid: string;
  readonly name: string;
  readonly address: string;
  readonly version: string;
}

/** A broker's row. Unavailable is not stored: it is derived from `heartbeatAt`. */
export interface BrokerRecord extends BrokerIdentity {
  readonly bootedAt: number;
  readonly heartbeatAt: number;
  readonly status: 'running' | 'stopped';
}

/** The brokers, with the database's clock and the heartbeat setting to judge them by. */
export interface ClusterSnapshot {
  readonly now: number;
  readonly heartbeatSeconds: number;
  readonly brokers: readonly BrokerRecord[];
}

export interface RemovalResult {
  /** Pending or running jobs of the broker, now pending for any broker. */
  readonly reassignedJobs: number;
  /** Its finished, cancelled and aborted jobs (and pending heartbeats), deleted. */
  readonly removedJobs: number;
}

/** The `broker` table. */
export interface ClusterStore {
  /**
   * In one transaction: reads the row of `self.siteId`, lets `check` refuse (by throwing),
   * then writes `self` as running, booted and beating now.
   */
  register(
    self: BrokerIdentity,
    check: (existing: BrokerRecord | undefined, now: number, heartbeatSeconds: number) => void,
  ): Promise<{ rejoined: boolean }>;
  /** Records a heartbeat of `self` (re-registering it if its row was removed). */
  beat(self: BrokerIdentity): Promise<void>;
  /** Marks `self` stopped and cancels its pending heartbeat jobs (unless its site ID has passed to another broker). */
  stop(self: BrokerIdentity): Promise<void>;
  snapshot(): Promise<ClusterSnapshot>;
  /**
   * In one transaction: lets `check` refuse (by throwing), then hands the broker's pending
   * and running jobs to the others, deletes its finished, cancelled and aborted jobs, and
   * deletes its row. Resolves undefined for an unknown site ID.
   */
  remove(
    siteId: number,
    check: (row: BrokerRecord, now: number, heartbeatSeconds: number) => void,
  ): Promise<RemovalResult | undefined>;
}

export interface PurgeOptions {
  /** Rows deleted per statement (default 5,000). */
  readonly batchRows?: number;
  /** Time after which no new batch starts (ms); the next run goes on where this one stopped. */
  readonly budgetMs?: number;
}

export interface PurgeResult {
  /** Rows deleted per table. */
  readonly deleted: Record<string, number>;
  /** Delete statements run. */
  readonly batches: number;
  /** False when the time ran out before everything due was deleted. */
  readonly complete: boolean;
}

/** What the `check_gateway` job learnt of one gateway. */
export interface GatewayCheck {
  readonly up: boolean;
  /** What `GET /info` said; absent when the gateway did not answer. */
  readonly reported?: { readonly portRange: PortRange; readonly version: string };
}

/** What the built-in jobs change in the site database. */
export interface MaintenanceStore {
  settings(): Promise<SiteSettings>;
  /**
   * Deletes what the cutoffs say, in bounded batches (each its own short statement, nothing
   * read back); resolves the rows deleted per table.
   */
  purge(cutoffs: PurgeCutoffs, options?: PurgeOptions): Promise<PurgeResult>;
  /**
   * Desktops with an agent key: available when their agent was seen after `seenAfter`.
   * Resolves how many changed each way.
   */
  refreshDesktops(
    seenAfter: number,
    pool?: string,
  ): Promise<{ nowAvailable: number; nowUnavailable: number }>;
  /** Live gateways (or the one named), with the port range the site configuration gives each. */
  gateways(name?: string): Promise<(GatewayEndpoint & { readonly portRange: PortRange })[]>;
  /** Records a check: up or down, and what the gateway reported when it answered. */
  recordGatewayCheck(name: string, check: GatewayCheck, at: number): Promise<void>;
}

/** Options of {@link JobQueue.enqueue}. */
export interface EnqueueOptions {
  /**
   * Makes the job unique: enqueueing a key the queue already holds does nothing (default: a
   * random key). Periodic jobs use one key per period (core/jobs/schedule.ts).
   */
  readonly idempotencyKey?: string;
  /** Earliest start, epoch milliseconds. */
  readonly runAt?: number;
  /** Only this broker may run the job (the local work_queue; SQS ignores it). */
  readonly siteId?: number;
}

/**
 * The job queue: SQS on AWS (`JOB_QUEUE_URL`), the site database's `work_queue` table on a
 * local cluster. Every job also has a `work_queue` row, for the job-queue view.
 */
export interface JobQueue {
  readonly transport: 'sqs' | 'work_queue';
  /** Resolves whether the job was enqueued (false: its key was already there). */
  enqueue(
    job: JobPayload,
    options?: EnqueueOptions,
  ): Promise<{ enqueued: boolean; idempotencyKey: string }>;
}
