/**
 * The local scheduler: enqueues the periodic jobs, once per period across the whole cluster
 * (every broker enqueues the period's job under the same idempotency key, and the queue
 * keeps one), and this broker's own heartbeat job every `heartbeatSeconds`, pinned to it.
 * On AWS, EventBridge schedules do the same from the same table (core/jobs/schedule.ts).
 */
import type { Logger } from '../adapters/logger.ts';
import type { Clock } from '../core/clock.ts';
import type { JobQueue } from '../core/jobs/ports.ts';
import {
  heartbeatJob,
  PERIODIC_JOBS,
  type PeriodicJob,
  periodIndex,
  periodKey,
} from '../core/jobs/schedule.ts';

export interface SchedulerOptions {
  readonly queue: JobQueue;
  readonly siteId: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The site's heartbeat period, in seconds (read from the site settings). */
  readonly heartbeatSeconds: () => Promise<number>;
  /** Called after each heartbeat job is enqueued (the runner wakes up). */
  readonly onHeartbeat?: () => void;
  /**
   * Beats without a job. For SQS, which cannot pin a job to one broker: another broker
   * could take this broker's heartbeat job.
   */
  readonly beatDirectly?: () => Promise<void>;
  /** The periodic jobs (default {@link PERIODIC_JOBS}). */
  readonly jobs?: readonly PeriodicJob[];
  /** How often the clock is checked (ms, default 1000). */
  readonly tickMs?: number;
  /** How often the heartbeat setting is re-read (ms, default 10 000). */
  readonly settingsMs?: number;
}

export interface Scheduler {
  stop(): Promise<void>;
}

/** Starts the scheduler; the first jobs are enqueued at once. */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const jobs = options.jobs ?? PERIODIC_JOBS;
  const done = new Map<string, number>();
  let heartbeatSeconds: number | undefined;
  let settingsReadAt = Number.NEGATIVE_INFINITY;
  let busy: Promise<void> = Promise.resolve();
  let stopped = false;

  const due = (name: string, everySeconds: number, now: number) => {
    const index = periodIndex(now, everySeconds);
    if (done.get(name) === index) return false;
    done.set(name, index);
    return true;
  };

  const tick = async () => {
    const now = options.clock.now();
    if (now - settingsReadAt >= (options.settingsMs ?? 10_000) || heartbeatSeconds === undefined) {
      settingsReadAt = now;
      heartbeatSeconds = await options.heartbeatSeconds();
    }
    if (due(`heartbeat:${heartbeatSeconds}`, heartbeatSeconds, now)) {
      if (options.beatDirectly) {
        await options.beatDirectly();
      } else {
        const beat = heartbeatJob(options.siteId, heartbeatSeconds, now);
        await options.queue.enqueue(beat.job, { idempotencyKey: beat.key, siteId: beat.siteId });
        options.onHeartbeat?.();
      }
    }
    for (const periodic of jobs) {
      const { kind } = periodic.job;
      if (!due(kind, periodic.everySeconds, now)) continue;
      await options.queue.enqueue(periodic.job, {
        idempotencyKey: periodKey(kind, periodic.everySeconds, now),
      });
    }
  };

  const run = () => {
    if (stopped) return;
    busy = busy.then(tick).catch((e: unknown) => {
      // The database may be away; the next tick tries again (done marks are per period).
      done.clear();
      options.logger.warn('scheduler: cannot enqueue', { error: String(e) });
    });
  };
  run();
  const timer = setInterval(run, options.tickMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await busy;
    },
  };
}
