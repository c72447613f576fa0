/**
 * The local broker's job runner, applying the guide's job limits (Appendix A) to this node:
 * at most `maxJobs(cpus)` jobs at once, and no new job unless the 1-minute load average is
 * below `maxLoad(cpus)` (at the maximum, jobs wait). Jobs over either limit wait in the queue; none is dropped. The
 * broker's own heartbeat job is exempt: the cluster must not take a busy broker for a dead one.
 */
import os from 'node:os';
import type { JobSource } from '../adapters/jobs/job-source.ts';
import type { Logger } from '../adapters/logger.ts';
import { belowLoadLimit, maxJobs, maxLoad } from '../core/jobs/limits.ts';
import type { Metrics } from '../core/metrics/ports.ts';

export interface JobRunnerOptions {
  readonly source: JobSource;
  readonly logger: Logger;
  /** CPUs the limits are computed for (default: this machine's). */
  readonly cpus?: number;
  /** The 1-minute load average (default: the operating system's). */
  readonly loadAverage?: () => number;
  /** Pause between polls when the queue is empty or the load is too high (ms, default 1000). */
  readonly pollMs?: number;
  /** Counts the polls at which a limit held jobs back. */
  readonly metrics: Metrics;
}

export interface JobRunnerStats {
  readonly maxJobs: number;
  readonly maxLoad: number;
  /** Jobs running now. */
  readonly running: number;
  /** The most jobs ever running at once. */
  readonly peak: number;
  readonly started: number;
  /** Polls skipped because the load average was at or over the limit. */
  readonly loadWaits: number;
}

export interface JobRunner {
  stats(): JobRunnerStats;
  /** Looks for jobs now instead of at the next poll. */
  wake(): void;
  /** Starts no new job and waits (up to `graceMs`, default 10 s) for the running ones. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts taking and running jobs. */
export function startJobRunner(options: JobRunnerOptions): JobRunner {
  const cpus = options.cpus ?? os.availableParallelism();
  const limit = maxJobs(cpus);
  const loadLimit = maxLoad(cpus);
  const loadAverage = options.loadAverage ?? (() => os.loadavg()[0]!);
  const pollMs = options.pollMs ?? 1000;
  const running = new Set<Promise<void>>();
  /** Heartbeats run while the limits hold the other jobs back; not counted in `running`. */
  const exempt = new Set<Promise<void>>();
  let peak = 0;
  let started = 0;
  let loadWaits = 0;
  let stopped = false;
  let wakeUp: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const launch = (run: () => Promise<unknown>) => {
    const task: Promise<void> = run()
      .then(
        () => {},
        (e: unknown) => options.logger.error('job runner: job failed', { error: e as Error }),
      )
      .finally(() => {
        running.delete(task);
        wakeUp?.();
      });
    running.add(task);
    started++;
    peak = Math.max(peak, running.size);
  };

  /** The heartbeat runs whatever the limits say: a busy broker is not a dead one. */
  const runExempt = async () => {
    try {
      for (const job of (await options.source.takeExempt?.()) ?? []) {
        const task: Promise<void> = job
          .run()
          .then(
            () => {},
            (e: unknown) => options.logger.error('job runner: job failed', { error: e as Error }),
          )
          .finally(() => exempt.delete(task));
        exempt.add(task);
      }
    } catch (e: unknown) {
      options.logger.warn('job runner: cannot take jobs', { error: String(e) });
    }
  };

  const loop = async () => {
    while (!stopped) {
      const free = limit - running.size;
      const overloaded = free > 0 && !belowLoadLimit(loadAverage(), cpus);
      if (free <= 0 || overloaded) {
        if (overloaded) loadWaits++;
        options.metrics.count('jobLimitWaits', { limit: overloaded ? 'load' : 'concurrency' });
        await runExempt();
        await pause(pollMs);
        continue;
      }
      let jobs: Awaited<ReturnType<JobSource['take']>> = [];
      try {
        jobs = await options.source.take(free);
      } catch (e: unknown) {
        options.logger.warn('job runner: cannot take jobs', { error: String(e) });
      }
      if (stopped) {
        // Taken after stop was asked: run them anyway, or they would wait for a takeover.
        for (const job of jobs) launch(() => job.run());
        break;
      }
      for (const job of jobs) launch(() => job.run());
      if (jobs.length === 0) await pause(pollMs);
    }
  };
  const looping = loop();

  return {
    stats: () => ({
      maxJobs: limit,
      maxLoad: loadLimit,
      running: running.size,
      peak,
      started,
      loadWaits,
    }),
    wake: () => wakeUp?.(),
    async stop(graceMs = 10_000) {
      stopped = true;
      wakeUp?.();
      await looping;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running, ...exempt]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
