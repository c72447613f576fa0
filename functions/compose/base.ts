/**
 * What every composition starts from: the configuration, logger, clock, metrics, the state
 * table, the site database and the cached site configuration. The areas (./login.ts,
 * ./desktops.ts, ./jobs.ts, ./admin.ts) add their adapters on top; each Lambda entry composes
 * the areas its endpoints use, the local runtime all of them (../compose.ts).
 */
import pkg from '../../package.json' with { type: 'json' };
import type { JobsOptions } from '../adapters/jobs/compose-jobs.ts';
import { createLogger, type Logger } from '../adapters/logger.ts';
import { EmfMetrics } from '../adapters/metrics/emf-metrics.ts';
import type { SiteDatabase } from '../adapters/site-db/connect.ts';
import { openBrokerSiteDatabase } from '../adapters/site-db/open-broker.ts';
import { CachedSnapshotSource } from '../adapters/site-db/snapshot-source.ts';
import { DynamoMirrorStore } from '../adapters/state/mirror-store.ts';
import { createStateTable, type StateTable } from '../adapters/state/state-table.ts';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { type Metrics, type MetricsOutput, NO_METRICS } from '../core/metrics/ports.ts';

/** The broker's version, as `cb_version` prints it. */
export const VERSION: string = pkg.version;

export const systemClock: Clock = { now: () => Date.now() };

export interface ComposeOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Replaces the load-average probe (tests force a load over the limit with it). */
  readonly loadAverage?: () => number;
  /** Job bodies from elsewhere (and test overrides), the broker's UUID, retry policy. */
  readonly jobs?: JobsOptions;
  /** Replaces the metrics adapter that the configuration picks. */
  readonly metrics?: Metrics & MetricsOutput;
  /**
   * The state table, when not DynamoDB through the SDK: the single-process local runtime keeps
   * it in its own process (openInProcessStateTable). The broker closes it with itself.
   */
  readonly stateTable?: StateTable;
}

export interface BrokerBase {
  readonly config: Config;
  readonly version: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly site: SiteDatabase;
  readonly state: StateTable;
  /** The site configuration, cached (CONFIG_CACHE_SECONDS), its leased-mode copy mirrored. */
  readonly snapshot: CachedSnapshotSource;
  /** The leased-mode copy of the site in the state table. */
  readonly mirror: DynamoMirrorStore;
  /** What the broker records (logins, connects, jobs, ...), and where it goes. */
  readonly metrics: Metrics & MetricsOutput;
  /** The options the composition was given (the areas read theirs). */
  readonly options: ComposeOptions;
  /** Closes the site database and the state table. */
  close(): Promise<void>;
}

/**
 * The metrics adapter for the configuration: EMF on Lambda, Prometheus locally (loaded only
 * there: prom-client is not in the Lambda bundles), or none.
 */
async function composeMetrics(config: Config['metrics']): Promise<Metrics & MetricsOutput> {
  switch (config.kind) {
    case 'emf':
      return new EmfMetrics({ namespace: config.namespace });
    case 'prometheus': {
      const { PrometheusMetrics } = await import('../adapters/metrics/prometheus-metrics.ts');
      return PrometheusMetrics.create();
    }
    case 'off':
      return NO_METRICS;
  }
}

/**
 * The adapters every handler uses. Nothing connects until first used.
 * @throws {Error} for a site database target it cannot open.
 */
export async function composeBase(
  config: Config,
  options: ComposeOptions = {},
): Promise<BrokerBase> {
  const logger = options.logger ?? createLogger('deskbroker', config.logLevel);
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? (await composeMetrics(config.metrics));
  const state =
    options.stateTable ??
    createStateTable({
      tableName: config.stateTable,
      region: config.region,
      endpoint: config.dynamoDbEndpoint,
    });
  // With SECONDARY_DB_URL (or its ARNs), a database that fails over to the secondary.
  const site = await openBrokerSiteDatabase(config, state, logger);
  const mirror = new DynamoMirrorStore(state);
  const snapshot = new CachedSnapshotSource(site.db, clock, config.configCacheMs, {
    store: mirror,
    onError: (e) =>
      logger.warn('could not save the leased-mode copy of the site', {
        error: (e as Error).message,
      }),
  });
  return {
    config,
    version: VERSION,
    logger,
    clock,
    site,
    state,
    snapshot,
    mirror,
    metrics,
    options,
    async close() {
      await site.close();
      await state.close();
    },
  };
}
