/**
 * The one composition of adapters. Lambda handlers and the local runtime both call
 * {@link compose} with a {@link Config}; only the configuration differs between them.
 */

import pkg from '../package.json' with { type: 'json' };
import { LdapAuthenticator } from './adapters/auth/ldap-authenticator.ts';
import { Argon2PasswordHasher } from './adapters/auth/password-hasher.ts';
import { createHealthProbes } from './adapters/health-probes.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { SqlAccountStore } from './adapters/site-db/account-store.ts';
import { openSiteDatabase, type SiteDatabase } from './adapters/site-db/connect.ts';
import { SqlSiteConfigStore } from './adapters/site-db/site-config-store.ts';
import { DynamoSessionStore } from './adapters/state/session-store.ts';
import { createStateTable, type StateTable } from './adapters/state/state-table.ts';
import type { Config } from './config.ts';
import type {
  AccountStore,
  Clock,
  DirectoryAuthenticator,
  HealthProbes,
  PasswordHasher,
  SessionStore,
  SiteConfigStore,
} from './core/ports.ts';
import type { SessionLimits } from './core/sessions.ts';

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
  readonly directory: DirectoryAuthenticator;
  readonly health: HealthProbes;
  close(): Promise<void>;
}

export interface ComposeOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Replaces the load-average probe (tests force a load over the limit with it). */
  readonly loadAverage?: () => number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Builds every adapter from the configuration. Nothing connects until first used. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<Broker> {
  const logger = options.logger ?? createLogger('deskbroker', config.logLevel);
  const clock = options.clock ?? systemClock;
  const site = await openSiteDatabase(config.siteDb, {
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  const state = createStateTable({
    tableName: config.stateTable,
    region: config.region,
    endpoint: config.dynamoDbEndpoint,
  });
  const sessionLimits = config.sessions;
  const directory = new LdapAuthenticator();
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
    directory,
    health: createHealthProbes(site.db, directory, options.loadAverage),
    async close() {
      await site.close();
      state.raw.destroy();
    },
  };
}
