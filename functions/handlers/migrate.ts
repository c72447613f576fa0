/**
 * The deploy-time migration: the handler of a CloudFormation custom resource (CDK Provider
 * framework, lib/constructs/migration.ts). On Create and Update it brings the site database
 * (and the secondary one, when configured) to this broker's schema version with
 * `migrateToLatest`, through the whole broker (`compose(loadConfig())`, as the local runtime
 * and the admin function compose it), and creates the built-in `admin` account on a new site (DESKBROKER_ADMIN_PASSWORD), and seals
 * stored secrets a site kept in clear from before they were encrypted. On Delete
 * it does nothing: the data outlives the stack.
 *
 * Aurora may be paused or still starting: a database that does not answer is retried with
 * a backoff for a few minutes before the deploy is failed (and rolled back).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { resolveSecretArns } from '../adapters/secrets.ts';
import { migrateToLatest } from '../adapters/site-db/migrate.ts';
import { type Broker, compose } from '../compose.ts';
import { type Config, describeTarget, loadConfig } from '../config.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import { resealSecrets } from '../core/secrets/reseal.ts';
import { resealDeps } from './http/deps.ts';

/** What the Provider framework expects back. */
export interface MigrationResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** One per stack: updates never replace it. */
export const PHYSICAL_RESOURCE_ID = 'deskbroker-site-schema';

export interface MigrationOptions {
  /** Attempts per database while it does not answer. @default 7 */
  readonly attempts?: number;
  /** First wait between attempts, doubling each time (ms). @default 2000 */
  readonly backoffMs?: number;
  /** Builds the broker for a configuration. @default compose */
  readonly compose?: (config: Config) => Promise<Broker>;
}

export interface MigrationOutcome {
  /** Per database: its description, and the versions before and after. */
  readonly databases: readonly { database: string; from: string; to: string }[];
  readonly adminCreated: boolean;
  /** Stored secrets found in clear and sealed, over every database. */
  readonly secretsSealed: number;
}

/**
 * Migrates every configured site database and creates the built-in admin when the site has
 * none and a password is configured.
 * @throws {DatabaseUnavailableError} when a database does not answer after every attempt.
 * @throws {SchemaVersionError} when a database is newer than this broker.
 */
export async function runMigration(
  config: Config,
  options: MigrationOptions = {},
): Promise<MigrationOutcome> {
  const build = options.compose ?? compose;
  // Each database on its own (no failover pairing): both must be at this version.
  const targets = [config.siteDb, ...(config.secondaryDb ? [config.secondaryDb] : [])];
  const databases: { database: string; from: string; to: string }[] = [];
  let adminCreated = false;
  let secretsSealed = 0;
  for (const [index, target] of targets.entries()) {
    const broker = await build({ ...config, siteDb: target, secondaryDb: undefined });
    try {
      const result = await retrying(() => migrateToLatest(broker.site.db), options);
      databases.push({ database: describeTarget(target), ...result });
      if (index === 0) adminCreated = await ensureAdmin(broker);
      // The leased-mode copy follows the primary only (the broker runs on it).
      const deps = resealDeps(broker);
      const sealed = await resealSecrets(
        index === 0 ? deps : { ...deps, afterChange: undefined },
        'clear',
      );
      secretsSealed += sealed.resealed;
      broker.logger.info('site database migrated', {
        database: describeTarget(target),
        ...result,
        adminCreated,
        secretsSealed: sealed.resealed,
      });
    } finally {
      await broker.close();
    }
  }
  return { databases, adminCreated, secretsSealed };
}

/** Creates the built-in admin with DESKBROKER_ADMIN_PASSWORD on a site without one. */
async function ensureAdmin(broker: Broker): Promise<boolean> {
  const password = broker.config.adminPassword;
  if (!password || (await broker.accounts.findBuiltinAdmin())) return false;
  return broker.accounts.ensureBuiltinAdmin(await broker.hasher.hash(password));
}

async function retrying<T>(work: () => Promise<T>, options: MigrationOptions): Promise<T> {
  const attempts = options.attempts ?? 7;
  let wait = options.backoffMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e: unknown) {
      if (!(e instanceof DatabaseUnavailableError) || attempt >= attempts) throw e;
      await sleep(wait);
      wait *= 2;
    }
  }
}

/** The custom resource handler. */
export const handler = async (
  event: CloudFormationCustomResourceEvent,
): Promise<MigrationResponse> => {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const outcome = await runMigration(await resolveSecretArns(loadConfig()));
  const primary = outcome.databases[0]!;
  return {
    PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    Data: {
      From: primary.from,
      To: primary.to,
      AdminCreated: String(outcome.adminCreated),
      SecretsSealed: String(outcome.secretsSealed),
    },
  };
};
