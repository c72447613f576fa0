/**
 * The local runtime: the whole broker in one process. It starts the embedded services
 * (PGlite site database, DynamoDB stand-in) unless the configuration points elsewhere,
 * composes the broker exactly as a Lambda does, and serves the same handlers behind a
 * local load balancer.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKeyFile } from '../adapters/encryption/key-file.ts';
import { ensureSchema } from '../adapters/site-db/migrate.ts';
import { openInProcessStateTable } from '../adapters/state/in-process-dynamo.ts';
import { ensureStateTable } from '../adapters/state/state-table.ts';
import { type Broker, type ComposeOptions, compose } from '../compose.ts';
import { type Config, describeTarget } from '../config.ts';
import { resealSecrets } from '../core/secrets/reseal.ts';
import { applySiteConfig } from '../core/site-config/apply.ts';
import { buildAdminHandler } from '../handlers/admin.ts';
import { buildAgentHandler } from '../handlers/agent.ts';
import { buildGatewayApiHandler } from '../handlers/gateway-api.ts';
import { buildHealthHandler } from '../handlers/health.ts';
import { applyDeps, resealDeps } from '../handlers/http/deps.ts';
import { buildLoginHandler } from '../handlers/login.ts';
import { buildOffersHandler } from '../handlers/offers.ts';
import { type AlbServer, type HandlerTable, startAlbServer } from './alb-server.ts';
import {
  type ClusterMember,
  type ClusterMemberOptions,
  claimBrokerUuid,
  joinCluster,
} from './cluster-member.ts';
import { lockDataFolder } from './data-lock.ts';
import { demoSite } from './demo-data.ts';
import { createStaticSite } from './static-site.ts';

/** The built pages (`npm run build:web`). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface LocalBroker {
  readonly broker: Broker;
  readonly url: string;
  readonly server: AlbServer;
  /** Its membership of the cluster: job runner, scheduler. */
  readonly member: ClusterMember;
  /** What start-up did, for the CLI to print. */
  readonly startup: {
    readonly database: string;
    readonly createdSite: boolean;
    readonly seededDemo: boolean;
    /** The admin password when this start created the account with a random one. */
    readonly generatedAdminPassword?: string;
    readonly createdAdmin: boolean;
    /** Whether the pages are built and served at `/`. */
    readonly pages: boolean;
  };
  stop(): Promise<void>;
}

export interface LocalOptions extends ComposeOptions {
  /** Seed the demo site into a new database (default true). */
  readonly demo?: boolean;
  /** Job limits, poll intervals (tests). */
  readonly cluster?: ClusterMemberOptions;
  /** The built pages to serve (default: web/dist/ of this checkout). */
  readonly webRoot?: string;
}

/** Builds every HTTP handler for a broker: the same builders the Lambda entries use. */
export function buildHandlers(broker: Broker): HandlerTable {
  return {
    health: buildHealthHandler(broker),
    login: buildLoginHandler(broker),
    offers: buildOffersHandler(broker),
    agent: buildAgentHandler(broker),
    // The local load balancer streams: log downloads come whole (Lambda: parts under 1 MB).
    admin: buildAdminHandler(broker, { streaming: true }),
    'gateway-api': buildGatewayApiHandler(broker),
  };
}

/**
 * Opens the embedded services the configuration asks for, and the broker on top of them.
 * Used by `serve` and by the CLI commands that work on the site database.
 */
export async function openLocal(
  config: Config,
  options: ComposeOptions = {},
): Promise<{ broker: Broker; close(): Promise<void> }> {
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    if (config.siteDb.kind === 'pglite') cleanups.push(lockDataFolder(config.siteDb.path));
    // The master key of stored secrets, made on first start (mode 0600) unless KMS holds it.
    if (config.secretsKey.kind === 'file') ensureKeyFile(config.secretsKey.path);
    // Without a DynamoDB endpoint, the state table lives in this process (in-process-dynamo.ts),
    // kept in the state folder; with one (a local cluster's state server), through the SDK.
    const stateTable = config.dynamoDbEndpoint
      ? undefined
      : openInProcessStateTable({
          tableName: config.stateTable,
          path: path.join(config.home, 'state', `site-${config.siteId}`),
        });
    const broker = await compose(config, { ...options, stateTable }).catch(async (e: unknown) => {
      await stateTable?.close();
      throw e;
    });
    cleanups.push(() => broker.close());
    await ensureStateTable(broker.state);
    return {
      broker,
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup();
      },
    };
  } catch (e: unknown) {
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw e;
  }
}

/** Starts the local broker: embedded services, schema, demo data, admin account, HTTP. */
export async function startLocalBroker(
  config: Config,
  options: LocalOptions = {},
): Promise<LocalBroker> {
  const identity = claimBrokerUuid(config.home, config.siteId);
  const local = await openLocal(config, {
    ...options,
    jobs: { uuid: identity.uuid, ...options.jobs },
  }).catch((e: unknown) => {
    identity.release();
    throw e;
  });
  const { broker } = local;
  let member: ClusterMember | undefined;
  try {
    const schema = await ensureSchema(broker.site.db, {
      createIfEmpty: true,
      upgrade: config.siteDb.kind === 'pglite',
    });
    // Refuses a site ID that a running broker holds, before anything else is done.
    member = await joinCluster(broker, options.cluster);
    let seededDemo = false;
    if (schema.created && options.demo !== false) {
      await applySiteConfig(
        applyDeps(broker),
        demoSite({ withGateway: config.gatewaySecret !== undefined }),
      );
      seededDemo = true;
    }
    const admin = await ensureAdmin(broker);
    // Secrets a site stored in clear before they were encrypted are sealed now (the
    // leased-mode copy is written again with them).
    const { resealed } = await resealSecrets(
      { ...resealDeps(broker), afterChange: undefined },
      'clear',
    );
    if (resealed > 0) {
      broker.snapshot.invalidate();
      broker.logger.info('stored secrets sealed', { count: resealed });
    }
    // Every apply mirrors what leased mode needs; a new admin, sealed secrets, or a state
    // table that has no copy yet (a new state folder), needs it now. What the last outage left
    // in the outbox goes back to the site database.
    try {
      if (admin.created || resealed > 0 || !(await broker.leasing.mirror.loadSite()))
        await broker.leasing.syncMirror();
    } catch (e: unknown) {
      broker.logger.warn('could not mirror the site for leased mode', {
        error: (e as Error).message,
      });
    }
    await broker.leasing.replay();
    const site = createStaticSite({
      root: options.webRoot ?? WEB_ROOT,
      brandingDir: path.join(config.home, 'branding'),
    });
    const server = await startAlbServer({
      handlers: buildHandlers(broker),
      host: config.host,
      port: config.port,
      logger: broker.logger,
      fallback: site.built ? (req, res) => site.serve(req, res) : undefined,
    });
    return {
      broker,
      url: server.url,
      server,
      member,
      startup: {
        database: describeTarget(config.siteDb),
        createdSite: schema.created,
        seededDemo,
        createdAdmin: admin.created,
        generatedAdminPassword: admin.generatedPassword,
        pages: site.built,
      },
      async stop() {
        await server.close();
        await member!.stop();
        await local.close();
        identity.release();
      },
    };
  } catch (e: unknown) {
    await member?.stop();
    await local.close();
    identity.release();
    throw e;
  }
}

/**
 * Creates the built-in `admin` on a site that has none: with DESKBROKER_ADMIN_PASSWORD, or a
 * random password returned once for the CLI to print.
 */
export async function ensureAdmin(
  broker: Broker,
): Promise<{ created: boolean; generatedPassword?: string }> {
  if (await broker.accounts.findBuiltinAdmin()) return { created: false };
  const generated = broker.config.adminPassword ? undefined : randomBytes(12).toString('base64url');
  const password = broker.config.adminPassword ?? generated!;
  const created = await broker.accounts.ensureBuiltinAdmin(await broker.hasher.hash(password));
  return created ? { created, generatedPassword: generated } : { created };
}
