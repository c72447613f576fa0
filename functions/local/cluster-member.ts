/**
 * A local broker as a member of its cluster: it registers under its site ID (refused while
 * another running broker holds it), runs jobs from the shared queue within the job limits,
 * schedules the periodic jobs and its heartbeat, and on a clean stop is marked Stopped.
 * A broker restarted from the same folder keeps its UUID, so it rejoins at once.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Broker } from '../compose.ts';
import { ConflictError } from '../core/errors.ts';
import { checkRegistration } from '../core/jobs/cluster.ts';
import { DataLockedError, lockDataFolder } from './data-lock.ts';
import { type JobRunner, startJobRunner } from './job-runner.ts';
import { type Scheduler, startScheduler } from './scheduler.ts';

export interface ClusterMemberOptions {
  /** CPUs the job limits are computed for (default: BROKER_CPUS, i.e. this machine's). */
  readonly cpus?: number;
  /** The 1-minute load average (default: the operating system's). */
  readonly loadAverage?: () => number;
  /** Job runner poll interval (ms, default 1000). */
  readonly pollMs?: number;
  /** Scheduler tick (ms, default 1000). */
  readonly tickMs?: number;
  /** How often the heartbeat setting is re-read (ms, default 10 000). */
  readonly settingsMs?: number;
}

export interface ClusterMember {
  readonly runner: JobRunner;
  readonly scheduler: Scheduler;
  readonly rejoined: boolean;
  /** Stops scheduling and running jobs, then marks the broker Stopped. */
  stop(): Promise<void>;
}

/** Another process started from the same folder runs as this site ID. */
export class SiteIdLockedError extends ConflictError {
  constructor(siteId: number, pid: number) {
    super(
      'site_id_in_use',
      `site ID ${siteId} is in use by another deskbroker process started from this folder (pid ${pid}): give this broker another SITE_ID (--site-id), or stop the other one`,
    );
    this.name = 'SiteIdLockedError';
  }
}

/**
 * This broker's UUID for its site ID, kept in DESKBROKER_HOME, and a lock so that two
 * processes started from the same folder cannot both be that broker.
 * @throws {SiteIdLockedError} when a live process holds it.
 */
export function claimBrokerUuid(home: string, siteId: number): { uuid: string; release(): void } {
  const folder = path.join(home, 'broker', `site-${siteId}`);
  mkdirSync(folder, { recursive: true });
  let release: () => void;
  try {
    release = lockDataFolder(folder);
  } catch (e: unknown) {
    if (e instanceof DataLockedError) throw new SiteIdLockedError(siteId, e.pid);
    throw e;
  }
  const file = path.join(folder, 'uuid');
  let uuid = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!/^[0-9a-f-]{36}$/.test(uuid)) {
    uuid = randomUUID();
    writeFileSync(file, `${uuid}\n`);
  }
  return { uuid, release };
}

/**
 * Registers the broker and starts its runner and scheduler.
 * @throws {SiteIdInUseError} when a running broker holds the site ID.
 */
export async function joinCluster(
  broker: Broker,
  options: ClusterMemberOptions = {},
): Promise<ClusterMember> {
  const { jobs, logger, clock, config } = broker;
  const { rejoined } = await jobs.cluster.register(jobs.identity, checkRegistration(jobs.identity));
  logger.info(rejoined ? 'broker rejoined the cluster' : 'broker joined the cluster', {
    siteId: config.siteId,
    uuid: jobs.identity.uuid,
  });
  const runner = startJobRunner({
    source: jobs.source(),
    logger,
    cpus: options.cpus ?? config.brokerCpus,
    loadAverage: options.loadAverage,
    pollMs: options.pollMs,
    metrics: broker.metrics,
  });
  const unsubscribe = jobs.onEnqueue(() => runner.wake());
  const scheduler = startScheduler({
    queue: jobs.queue,
    siteId: config.siteId,
    clock,
    logger,
    // A runtime-fixed period (HEARTBEAT_SECONDS) wins over the site setting, as on AWS.
    heartbeatSeconds: async () =>
      config.heartbeatSeconds ?? (await jobs.maintenance.settings()).heartbeatSeconds,
    onHeartbeat: () => runner.wake(),
    beatDirectly:
      jobs.queue.transport === 'sqs' ? () => jobs.cluster.beat(jobs.identity) : undefined,
    tickMs: options.tickMs,
    settingsMs: options.settingsMs,
  });
  return {
    runner,
    scheduler,
    rejoined,
    async stop() {
      await scheduler.stop();
      unsubscribe();
      await runner.stop();
      await jobs.cluster.stop(jobs.identity).catch((e: unknown) => {
        logger.warn('could not mark the broker stopped', { error: String(e) });
      });
    },
  };
}
