/**
 * The one composition of adapters. Lambda handlers and the local runtime both call
 * {@link compose} with a {@link Config}; only the configuration differs between them.
 */

import pkg from '../package.json' with { type: 'json' };
import { LdapAuthenticator } from './adapters/auth/ldap-authenticator.ts';
import { Argon2PasswordHasher } from './adapters/auth/password-hasher.ts';
import { createSecretBox } from './adapters/encryption/secret-box.ts';
import { HttpGatewayControl } from './adapters/gateway/gateway-client.ts';
import { createHealthProbes } from './adapters/health-probes.ts';
import { type BrokerJobs, composeJobs, type JobsOptions } from './adapters/jobs/compose-jobs.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { EmfMetrics } from './adapters/metrics/emf-metrics.ts';
import { PrometheusMetrics } from './adapters/metrics/prometheus-metrics.ts';
import { createTcpProbe } from './adapters/net/tcp-probe.ts';
import { SqlAccountStore } from './adapters/site-db/account-store.ts';
import { SqlActivityViews } from './adapters/site-db/admin-activity.ts';
import { SqlDesktopViews } from './adapters/site-db/admin-desktops.ts';
import { SqlAgentStore } from './adapters/site-db/agent-store.ts';
import type { SiteDatabase } from './adapters/site-db/connect.ts';
import { SqlDesktopStore } from './adapters/site-db/desktop-store.ts';
import { openBrokerSiteDatabase } from './adapters/site-db/failover.ts';
import { SqlForwardStore } from './adapters/site-db/forward-store.ts';
import { SqlStoredSecrets } from './adapters/site-db/secret-store.ts';
import { SqlSiteConfigStore } from './adapters/site-db/site-config-store.ts';
import { CachedSnapshotSource } from './adapters/site-db/snapshot-source.ts';
import { DynamoGatewayRegistry } from './adapters/state/gateway-registry.ts';
import { DynamoHtml5SessionStore } from './adapters/state/html5-session-store.ts';
import { DynamoMirrorStore } from './adapters/state/mirror-store.ts';
import { DynamoSessionStore } from './adapters/state/session-store.ts';
import { openStateTable, type StateTable } from './adapters/state/state-table.ts';
import { DynamoThrottleStore } from './adapters/state/throttle-store.ts';
import { type BrokerLeasing, composeLeasing, leasingJobBodies } from './compose-leasing.ts';
import type { Config } from './config.ts';
import type { ActivityViews, DesktopViews } from './core/admin/ports.ts';
import type { AgentStore } from './core/agents/ports.ts';
import type { Clock } from './core/clock.ts';
import type { ReachabilityProbe } from './core/desktops/offers.ts';
import type { DesktopStore } from './core/desktops/ports.ts';
import { ticketKey } from './core/gateways/html5-ticket.ts';
import type {
  ForwardStore,
  GatewayControl,
  GatewayRegistry,
  GatewayRouter,
  Html5SessionStore,
} from './core/gateways/ports.ts';
import { createGatewayRouter } from './core/gateways/routing.ts';
import type { HealthProbes } from './core/health.ts';
import { releaseJobBodies } from './core/jobs/release-bodies.ts';
import type {
  AccountStore,
  DirectoryAuthenticator,
  PasswordHasher,
  SessionStore,
  ThrottleStore,
} from './core/login/ports.ts';
import type { SessionLimits } from './core/login/sessions.ts';
import { type Metrics, type MetricsOutput, NO_METRICS } from './core/metrics/ports.ts';
import type { SecretBox, StoredSecrets } from './core/secrets/ports.ts';
import type { SiteConfigStore, SiteSnapshotSource } from './core/site-config/ports.ts';

/** The broker's version, as `cb_version` prints it. */
export const VERSION: string = pkg.version;

export interface Broker {
  readonly config: Config;
  readonly version: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly site: SiteDatabase;
  readonly state: StateTable;
  readonly sessions: SessionStore;
  readonly sessionLimits: SessionLimits;
  readonly accounts: AccountStore;
  readonly siteConfig: SiteConfigStore;
  readonly hasher: PasswordHasher;
  /** Seals and opens stored secrets (LDAP bind passwords, TOTP secrets). */
  readonly secrets: SecretBox;
  /** The stored secrets of the site database (sealing old clear values, re-encryption). */
  readonly storedSecrets: StoredSecrets;
  readonly directory: DirectoryAuthenticator;
  readonly health: HealthProbes;
  readonly snapshot: SiteSnapshotSource;
  readonly desktops: DesktopStore;
  readonly agents: AgentStore;
  readonly throttle: ThrottleStore;
  readonly probe: ReachabilityProbe;
  readonly forwards: ForwardStore;
  /** Undefined without GATEWAY_SECRET. */
  readonly gatewayControl: GatewayControl | undefined;
  readonly gateways: GatewayRouter;
  /** Redeemed HTML5 tickets (state table). */
  readonly html5: Html5SessionStore;
  /** Seals and opens HTML5 tickets; undefined without GATEWAY_SECRET. */
  readonly ticketKey: Buffer | undefined;
  /** Gateways that registered themselves (state table). */
  readonly gatewayRegistry: GatewayRegistry;
  /** Job queue, ledger, cluster records and job bodies. */
  readonly jobs: BrokerJobs;
  /** Connection leasing and leased mode. */
  readonly leasing: BrokerLeasing;
  /** The admin console's views of the site database. */
  readonly admin: { readonly desktops: DesktopViews; readonly activity: ActivityViews };
  /** What the broker records (logins, connects, jobs, ...), and where it goes. */
  readonly metrics: Metrics & MetricsOutput;
  close(): Promise<void>;
}

export interface ComposeOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Replaces the load-average probe (tests force a load over the limit with it). */
  readonly loadAverage?: () => number;
  /** Job bodies from elsewhere (and test overrides), the broker's UUID, retry policy. */
  readonly jobs?: JobsOptions;
  /** Replaces the metrics adapter that the configuration picks. */
  readonly metrics?: Metrics & MetricsOutput;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The metrics adapter for the configuration: EMF on Lambda, Prometheus locally, or none. */
async function composeMetrics(config: Config['metrics']): Promise<Metrics & MetricsOutput> {
  switch (config.kind) {
    case 'emf':
      return new EmfMetrics({ namespace: config.namespace });
    case 'prometheus':
      return PrometheusMetrics.create();
    case 'off':
      return NO_METRICS;
  }
}

/** Builds every adapter from the configuration. Nothing connects until first used. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<Broker> {
  const logger = options.logger ?? createLogger('deskbroker', config.logLevel);
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? (await composeMetrics(config.metrics));
  const state = await openStateTable({
    tableName: config.stateTable,
    region: config.region,
    endpoint: config.dynamoDbEndpoint,
    inProcess:
      config.stateTablePath && !config.dynamoDbEndpoint
        ? { path: config.stateTablePath }
        : undefined,
  });
  // With SECONDARY_DB_URL (or its ARNs), a database that fails over to the secondary.
  const site = await openBrokerSiteDatabase(config, state, logger);
  const sessionLimits = config.sessions;
  const secrets = createSecretBox(config.secretsKey);
  const directory = new LdapAuthenticator(secrets);
  const mirror = new DynamoMirrorStore(state);
  const snapshot = new CachedSnapshotSource(site.db, clock, config.configCacheMs, {
    store: mirror,
    onError: (e) =>
      logger.warn('could not save the leased-mode copy of the site', {
        error: (e as Error).message,
      }),
  });
  const forwards = new SqlForwardStore(site.db);
  const gatewayControl = config.gatewaySecret
    ? new HttpGatewayControl({ secret: config.gatewaySecret, timeoutMs: config.gatewayTimeoutMs })
    : undefined;
  const html5 = new DynamoHtml5SessionStore(state);
  const gatewayRegistry = new DynamoGatewayRegistry(state, () => clock.now());
  const gateways = createGatewayRouter({
    snapshot,
    control: gatewayControl,
    forwards,
    html5,
    registry: gatewayRegistry,
    now: () => clock.now(),
    warn: (message, details) => logger.warn(message, details),
  });
  const desktops = new SqlDesktopStore(site.db, config.siteId);
  const agents = new SqlAgentStore(site.db, config.siteId);
  const leasing = composeLeasing({
    state,
    db: site.db,
    siteId: config.siteId,
    clock,
    logger,
    snapshot,
    leasedSnapshot: snapshot.withoutDatabase(),
    mirror,
    gatewayControl,
    html5,
    gatewayRegistry,
    requestTimeoutMs: config.dbRequestTimeoutMs,
    metrics,
  });
  const jobs = composeJobs({
    config,
    db: site.db,
    logger,
    clock,
    version: VERSION,
    gatewayControl,
    metrics,
    options: {
      ...options.jobs,
      bodies: {
        ...leasingJobBodies(leasing),
        ...releaseJobBodies({ agents, desktops, gateways, snapshot, clock }),
        ...options.jobs?.bodies,
      },
    },
  });
  return {
    config,
    version: VERSION,
    logger,
    clock,
    site,
    state,
    sessions: new DynamoSessionStore(state, sessionLimits, clock),
    sessionLimits,
    accounts: new SqlAccountStore(site.db),
    siteConfig: new SqlSiteConfigStore(site.db),
    hasher: new Argon2PasswordHasher(),
    secrets,
    storedSecrets: new SqlStoredSecrets(site.db),
    directory,
    health: createHealthProbes(site.db, directory, options.loadAverage),
    snapshot,
    desktops,
    agents,
    throttle: new DynamoThrottleStore(state),
    probe: createTcpProbe(config.probe),
    forwards,
    gatewayControl,
    gateways,
    html5,
    ticketKey: config.gatewaySecret ? ticketKey(config.gatewaySecret) : undefined,
    gatewayRegistry,
    jobs,
    leasing,
    admin: {
      desktops: new SqlDesktopViews(site.db, config.siteId),
      activity: new SqlActivityViews(site.db),
    },
    metrics,
    async close() {
      jobs.close();
      await directory.close();
      await site.close();
      await state.close();
    },
  };
}
