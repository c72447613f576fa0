/**
 * The job system of one broker, built from the configuration: the queue (SQS with
 * `JOB_QUEUE_URL`, else the site database's `work_queue`), the ledger, the cluster records,
 * and the job bodies. Part of the one composition (compose.ts).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../../config.ts';
import type { Clock } from '../../core/clock.ts';
import type { GatewayControl } from '../../core/gateways/ports.ts';
import { jobBodies } from '../../core/jobs/bodies.ts';
import type { RetryPolicy } from '../../core/jobs/limits.ts';
import type { BrokerIdentity, JobQueue } from '../../core/jobs/ports.ts';
import type { JobBodies, RunnerDeps } from '../../core/jobs/runner.ts';
import type { Metrics } from '../../core/metrics/ports.ts';
import type { Logger } from '../logger.ts';
import { SqlClusterStore } from '../site-db/cluster-store.ts';
import type { SiteDb } from '../site-db/connect.ts';
import { SqlMaintenanceStore } from '../site-db/maintenance-store.ts';
import type { JobSource } from './job-source.ts';
import type { SqsDeliveryDeps } from './sqs-delivery.ts';
import { createSqsClient, SqsJobQueue, SqsJobSource } from './sqs-queue.ts';
import { SqlJobLedger } from './work-queue-ledger.ts';
import { WorkQueueJobQueue, WorkQueueJobSource } from './work-queue-queue.ts';

/** Longest a job may run before another broker may take it over (Lambda's own limit). */
export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;

export interface JobsOptions {
  /** Bodies of agent_timeout, delayed_release and lease_upkeep (and overrides, in tests). */
  readonly bodies?: Partial<JobBodies>;
  /** This broker's UUID (the local runtime keeps one per site ID); default: a new one. */
  readonly uuid?: string;
  readonly retry?: RetryPolicy;
  readonly staleAfterMs?: number;
}

export interface BrokerJobs {
  readonly identity: BrokerIdentity;
  readonly queue: JobQueue;
  readonly ledger: SqlJobLedger;
  readonly cluster: SqlClusterStore;
  readonly maintenance: SqlMaintenanceStore;
  readonly bodies: JobBodies;
  /** What running a job needs, on either transport. */
  readonly runner: RunnerDeps;
  /** With JOB_QUEUE_URL: what processing an SQS message needs. */
  readonly sqs?: SqsDeliveryDeps;
  /** Where the local job runner takes jobs from on this transport. */
  source(): JobSource;
  /** Calls `listener` after each job this process enqueues on the work_queue transport. */
  onEnqueue(listener: () => void): () => void;
  close(): void;
}

/** The machine's first non-internal IPv4 address, as the cluster view shows it. */
export function machineAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function composeJobs(deps: {
  readonly config: Config;
  readonly db: SiteDb;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly version: string;
  readonly gatewayControl?: GatewayControl;
  readonly metrics: Metrics;
  readonly options?: JobsOptions;
}): BrokerJobs {
  const { config, db, logger, clock, options = {} } = deps;
  const identity: BrokerIdentity = {
    siteId: config.siteId,
    uuid: options.uuid ?? randomUUID(),
    name: config.brokerName,
    address: machineAddress(),
    version: deps.version,
  };
  const ledger = new SqlJobLedger(db);
  const cluster = new SqlClusterStore(db, config.heartbeatSeconds);
  const maintenance = new SqlMaintenanceStore(db);
  const bodies = jobBodies(
    { self: identity, cluster, maintenance, clock, gateways: deps.gatewayControl },
    options.bodies,
  );
  const runner: RunnerDeps = {
    ledger,
    bodies,
    siteId: config.siteId,
    logger,
    clock,
    retry: options.retry,
    staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
    metrics: deps.metrics,
  };
  let client: SQSClient | undefined;
  let sqs: SqsDeliveryDeps | undefined;
  let queue: JobQueue;
  const local = new WorkQueueJobQueue(ledger);
  if (config.jobQueueUrl) {
    client = createSqsClient({ region: config.region, endpoint: config.sqsEndpoint });
    sqs = { ...runner, client, queueUrl: config.jobQueueUrl };
    queue = new SqsJobQueue({ client, queueUrl: config.jobQueueUrl, ledger, clock });
  } else {
    queue = local;
  }
  return {
    identity,
    queue,
    ledger,
    cluster,
    maintenance,
    bodies,
    runner,
    sqs,
    source: () => (sqs ? new SqsJobSource(sqs) : new WorkQueueJobSource(runner)),
    onEnqueue: (listener) => local.onEnqueue(listener),
    close: () => client?.destroy(),
  };
}
