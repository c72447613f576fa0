/**
 * What the local job runner takes jobs from: the `work_queue` table or an SQS queue.
 */
import type { JobOutcome } from '../../core/jobs/runner.ts';

/** A job taken from a source, ready to run. `run` never throws for a failing job body. */
export interface RunnableJob {
  readonly kind: string;
  readonly key: string;
  run(): Promise<JobOutcome | undefined>;
}

export interface JobSource {
  /** Takes up to `max` jobs that this broker may run now; resolves [] when there are none. */
  take(max: number): Promise<RunnableJob[]>;
  /**
   * Takes the jobs that run whatever the job limits say: this broker's heartbeat (a busy
   * broker is still alive, and must not look Unavailable to the cluster).
   */
  takeExempt?(): Promise<RunnableJob[]>;
}
