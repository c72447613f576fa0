/**
 * Running one job, whatever the transport: dispatch to the body of its kind, then record the
 * outcome in the ledger. A job that throws is retried with backoff and given up (aborted)
 * after {@link MAX_RECEIVES} tries; a job delivered again after it finished is skipped, so
 * each job has its effect once.
 */

import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics/ports.ts';
import { DEFAULT_RETRY, MAX_RECEIVES, type RetryPolicy, retryDelaySeconds } from './limits.ts';
import {
  InvalidJobError,
  type JobKind,
  type JobMessage,
  type JobOf,
  parseJobPayload,
} from './payload.ts';
import type { ClaimedJob, JobLedger } from './ports.ts';

/** The logging a job body may do (Powertools' Logger fits). */
export interface JobLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What a body knows about the run it is part of. */
export interface JobRunContext {
  /** The broker running the job. */
  readonly siteId: number;
  readonly idempotencyKey: string;
  /** 1 on the first try. */
  readonly attempt: number;
  readonly logger: JobLogger;
}

/** The body of one kind of job. It must be idempotent: it may run again after a crash. */
export type JobBody<K extends JobKind> = (job: JobOf<K>, context: JobRunContext) => Promise<void>;

/** A body for every kind. */
export type JobBodies = { readonly [K in JobKind]: JobBody<K> };

/** The body of a kind nobody has configured: logs so and finishes. */
export function notConfigured<K extends JobKind>(kind: K): JobBody<K> {
  return async (_job, context) => {
    context.logger.info('job kind not configured; nothing done', {
      kind,
      key: context.idempotencyKey,
    });
  };
}

export interface RunnerDeps {
  readonly ledger: JobLedger;
  readonly bodies: JobBodies;
  /** The broker running the jobs. */
  readonly siteId: number;
  readonly logger: JobLogger;
  readonly clock: Clock;
  readonly retry?: RetryPolicy;
  /** How long a job may stay running before another broker may take it over. */
  readonly staleAfterMs: number;
  /** Jobs run, by kind and outcome. */
  readonly metrics: Metrics;
}

export type JobOutcome =
  | { readonly status: 'finished' }
  /** Another broker took it over while it ran; its result was not recorded. */
  | { readonly status: 'superseded' }
  /** Already finished, cancelled, aborted or running elsewhere: nothing done. */
  | { readonly status: 'duplicate' }
  | { readonly status: 'deferred'; readonly error: string; readonly retryAt: number }
  | { readonly status: 'aborted'; readonly error: string };

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 2000);

/**
 * Runs a job this broker has claimed. Never throws for a failing body: the outcome says
 * what happened. `receiveCount` is the transport's count of deliveries, when it has one.
 */
export async function runClaimedJob(
  deps: RunnerDeps,
  claimed: ClaimedJob,
  receiveCount = 0,
): Promise<JobOutcome> {
  const attempts = Math.max(claimed.attempts, receiveCount);
  try {
    const job = parseJobPayload(claimed.payload);
    const body = deps.bodies[job.kind] as JobBody<typeof job.kind>;
    await body(job as never, {
      siteId: deps.siteId,
      idempotencyKey: claimed.idempotencyKey,
      attempt: attempts,
      logger: deps.logger,
    });
  } catch (e: unknown) {
    const error = message(e);
    const giveUp = e instanceof InvalidJobError || attempts >= MAX_RECEIVES;
    const retryAt = giveUp
      ? undefined
      : deps.clock.now() + retryDelaySeconds(attempts, deps.retry ?? DEFAULT_RETRY) * 1000;
    deps.logger.warn(giveUp ? 'job aborted' : 'job failed; will retry', {
      kind: claimed.kind,
      key: claimed.idempotencyKey,
      attempts,
      error,
    });
    await deps.ledger.fail(claimed, deps.siteId, error, retryAt);
    deps.metrics.count('jobs', {
      kind: claimed.kind,
      outcome: retryAt === undefined ? 'aborted' : 'failed',
    });
    return retryAt === undefined
      ? { status: 'aborted', error }
      : { status: 'deferred', error, retryAt };
  }
  const recorded = await deps.ledger.finish(claimed, deps.siteId);
  deps.metrics.count('jobs', { kind: claimed.kind, outcome: recorded ? 'finished' : 'superseded' });
  return recorded ? { status: 'finished' } : { status: 'superseded' };
}

/**
 * Runs a job delivered by a queue that may deliver it more than once (SQS): marks it
 * running in the ledger first, and skips it when it is finished or running elsewhere.
 */
export async function runDeliveredJob(
  deps: RunnerDeps,
  message: JobMessage,
  receiveCount: number,
): Promise<JobOutcome> {
  const claimed = await deps.ledger.start(
    message.idempotencyKey,
    message.job,
    deps.siteId,
    deps.staleAfterMs,
  );
  if (!claimed) return { status: 'duplicate' };
  return runClaimedJob(deps, claimed, receiveCount);
}
