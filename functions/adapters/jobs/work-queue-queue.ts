/**
 * The local job queue: the site database's `work_queue` table itself, shared by every
 * broker on the database (the guide's common job queue, with no extra service). Enqueue is
 * an insert keyed by the idempotency key; brokers take ready rows with
 * `FOR UPDATE SKIP LOCKED`.
 */
import { randomUUID } from 'node:crypto';
import type { JobPayload } from '../../core/jobs/payload.ts';
import type { EnqueueOptions, JobQueue } from '../../core/jobs/ports.ts';
import { type RunnerDeps, runClaimedJob } from '../../core/jobs/runner.ts';
import type { JobSource, RunnableJob } from './job-source.ts';
import type { SqlJobLedger } from './work-queue-ledger.ts';

export class WorkQueueJobQueue implements JobQueue {
  readonly transport = 'work_queue' as const;
  readonly #ledger: SqlJobLedger;
  readonly #listeners = new Set<() => void>();

  constructor(ledger: SqlJobLedger) {
    this.#ledger = ledger;
  }

  /** Calls `listener` after each job this process enqueues (the local runner wakes up). */
  onEnqueue(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async enqueue(
    job: JobPayload,
    options: EnqueueOptions = {},
  ): Promise<{ enqueued: boolean; idempotencyKey: string }> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const enqueued = await this.#ledger.record(job, idempotencyKey, {
      runAt: options.runAt,
      siteId: options.siteId,
    });
    if (enqueued) for (const listener of this.#listeners) listener();
    return { enqueued, idempotencyKey };
  }
}

/** The local runner's source of jobs on the `work_queue` transport. */
export class WorkQueueJobSource implements JobSource {
  readonly #deps: RunnerDeps;
  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  take(max: number): Promise<RunnableJob[]> {
    return this.#take(max);
  }

  takeExempt(): Promise<RunnableJob[]> {
    return this.#take(2, 'heartbeat');
  }

  async #take(max: number, kind?: string): Promise<RunnableJob[]> {
    const { ledger, siteId, staleAfterMs } = this.#deps;
    const claimed = await ledger.claim(siteId, max, staleAfterMs, kind);
    return claimed.map((job) => ({
      kind: job.kind,
      key: job.idempotencyKey,
      run: () => runClaimedJob(this.#deps, job),
    }));
  }
}
