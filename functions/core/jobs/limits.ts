/**
 * The guide's job limits (Appendix A, "Connection Broker Job Limits"): how many background
 * jobs a broker runs at once, and above which 1-minute load average it starts no new one.
 * Pure functions, shared by the local job runner and the CDK code that sets the SQS event
 * source's maximum concurrency.
 */

/** How many times a job is received before it is given up (SQS redrive, work_queue `aborted`). */
export const MAX_RECEIVES = 5;

function checkCpus(cpus: number): void {
  if (!Number.isInteger(cpus) || cpus < 1) {
    throw new RangeError(`cpus must be a positive integer, got ${cpus}`);
  }
}

/**
 * Maximum concurrent jobs on a broker with `cpus` CPUs: 4 × CPUs + 4 (2 CPUs → 12).
 * @throws {RangeError} unless `cpus` is a positive integer.
 */
export function maxJobs(cpus: number): number {
  checkCpus(cpus);
  return 4 * cpus + 4;
}

/**
 * Maximum 1-minute load average at which a broker with `cpus` CPUs still starts jobs:
 * 1.1 × CPUs + 0.8 (2 CPUs → 3), rounded to one decimal as the guide's table prints it.
 * @throws {RangeError} unless `cpus` is a positive integer.
 */
export function maxLoad(cpus: number): number {
  checkCpus(cpus);
  return Math.round((1.1 * cpus + 0.8) * 10) / 10;
}

/**
 * Whether a broker with `cpus` CPUs may start a new job at this 1-minute load average: only
 * strictly below {@link maxLoad}. The guide (Appendix A) delays jobs "when either the maximum
 * concurrent jobs or load average is met" and resumes them "when the number of jobs and load
 * average are below the threshold", so a load exactly at the maximum holds them back.
 * @throws {RangeError} unless `cpus` is a positive integer.
 */
export function belowLoadLimit(loadAverage: number, cpus: number): boolean {
  return loadAverage < maxLoad(cpus);
}

/**
 * The SQS event source's maximum concurrency for a job Lambda sized like `cpus` CPUs:
 * {@link maxJobs} clamped to the 2..1000 that Lambda accepts.
 * @throws {RangeError} unless `cpus` is a positive integer.
 */
export function sqsMaxConcurrency(cpus: number): number {
  return Math.min(1000, Math.max(2, maxJobs(cpus)));
}

/** How long to wait before retrying a job that failed on its `attempt`-th try. */
export interface RetryPolicy {
  /** Delay after the first failure, in seconds; doubles with each further one. */
  readonly baseSeconds: number;
  /** Longest delay, in seconds. */
  readonly maxSeconds: number;
}

/** 10 s, 20 s, 40 s, 80 s: a job that fails five times is given up within about 3 minutes. */
export const DEFAULT_RETRY: RetryPolicy = { baseSeconds: 10, maxSeconds: 900 };

/** Exponential backoff: `baseSeconds × 2^(attempt − 1)`, at most `maxSeconds`. */
export function retryDelaySeconds(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** (n - 1));
}
