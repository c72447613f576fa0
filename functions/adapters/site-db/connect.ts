/**
 * Opens the site database behind one interface, whatever the dialect: PostgreSQL (`pg`),
 * embedded PGlite, or the RDS Data API. The heavy dialects are imported on demand, so a
 * Lambda bundle that only uses the Data API does not carry PGlite or `pg`.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CamelCasePlugin,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { type DatabaseTarget, describeTarget } from '../../config.ts';
import { DatabaseUnavailableError } from '../../core/errors.ts';
import { failureText } from '../failure-kind.ts';
import { countSqlRoundTrip, meterSdkClient } from '../meter.ts';
import type { Database } from './schema.ts';

export type SiteDb = Kysely<Database>;

/** The per-statement time limit of the work running inside {@link withStatementDeadline}. */
const deadline = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with a client-side limit on each site-database statement (and connection) it
 * waits for: past `ms`, the statement counts as a database outage (DatabaseUnavailableError),
 * so a database that hangs instead of refusing is noticed within `ms` on the request path.
 */
export function withStatementDeadline<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return deadline.run(ms, fn);
}

/** Races `work` against the current deadline, if any. */
function limited<T>(work: Promise<T>, what: string): Promise<T> {
  const ms = deadline.getStore();
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DatabaseUnavailableError(`the site database did not answer ${what} within ${ms} ms`),
        ),
      ms,
    );
  });
  work.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export interface SiteDatabase {
  readonly db: SiteDb;
  readonly target: DatabaseTarget;
  /**
   * Round trips to the database so far, counted at the transport: every message exchange a
   * driver makes (statements, BEGIN/COMMIT/ROLLBACK, transaction settings, each attempt of a
   * Data API call the SDK retries).
   */
  readonly stats: { roundTrips: number };
  /** With a secondary database (failover.ts): which one answers now. */
  readonly failover?: { active(): { which: 'primary' | 'secondary'; target: DatabaseTarget } };
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Longest a statement may run before the database cancels it. */
  readonly statementTimeoutMs: number;
  /** Longest to wait for a connection. */
  readonly connectTimeoutMs?: number;
  /** Connections in the pool (pg only). */
  readonly poolSize?: number;
}

/**
 * Opens a site database. Nothing is queried yet; the first query connects.
 * @throws {Error} for a target it cannot open (bad URL, unreadable PGlite folder).
 */
export async function openSiteDatabase(
  target: DatabaseTarget,
  options: OpenOptions,
): Promise<SiteDatabase> {
  const stats = { roundTrips: 0 };
  const inner = await dialectFor(target, options, stats);
  const db = new Kysely<Database>({
    dialect: new CheckedDialect(inner, (e) => classifyDatabaseError(e, target)),
    plugins: [new CamelCasePlugin()],
  });
  return { db, target, stats, close: () => db.destroy() };
}

/**
 * The dialect of one target, counting round trips into `stats` and turning connection
 * failures into DatabaseUnavailableError (failover.ts combines two of them).
 */
export async function checkedDialect(
  target: DatabaseTarget,
  options: OpenOptions,
  stats: { roundTrips: number },
): Promise<Dialect> {
  const inner = await dialectFor(target, options, stats);
  return new CheckedDialect(inner, (e) => classifyDatabaseError(e, target));
}

/** The dialect of a target, its driver's calls counted into `stats` where they leave the process. */
async function dialectFor(
  target: DatabaseTarget,
  options: OpenOptions,
  stats: { roundTrips: number },
): Promise<Dialect> {
  switch (target.kind) {
    case 'postgres': {
      const { postgresDialect } = await import('./postgres-dialect.ts');
      return postgresDialect(target, options, stats);
    }
    case 'pglite': {
      const { pgliteDialect } = await import('./pglite-dialect.ts');
      return pgliteDialect(target, stats);
    }
    case 'data-api': {
      const { RDSDataClient } = await import('@aws-sdk/client-rds-data');
      const { DataApiDialect } = await import('./data-api-dialect.ts');
      const client = new RDSDataClient({
        region: target.region,
        endpoint: target.endpoint,
        // A local stand-in (tests, LocalStack) takes any credentials; AWS uses the role.
        ...(target.endpoint
          ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
          : {}),
        requestHandler: { requestTimeout: options.statementTimeoutMs, connectionTimeout: 3000 },
        maxAttempts: 2,
      });
      meterSdkClient(client, 'deskbrokerSqlRoundTrips', () => countSqlRoundTrip(stats));
      return new DataApiDialect({
        client,
        resourceArn: target.clusterArn,
        secretArn: target.secretArn,
        database: target.database,
      });
    }
  }
}

/** Error codes and messages that mean "the database is not there", not "the query is wrong". */
const UNAVAILABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|timeout|terminat|Connection terminated|the database system is (starting|shutting) up|too many clients|PGlite is closed|socket hang up|DatabaseResumingException|ServiceUnavailable|InternalServerError|ECONNABORTED|57P01|57P03|53300|08\d\d\d/i;

/** Classifies a driver error: connection-level failures become {@link DatabaseUnavailableError}. */
export function classifyDatabaseError(e: unknown, target: DatabaseTarget): unknown {
  if (e instanceof DatabaseUnavailableError) return e;
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const text = `${String(err?.code ?? '')} ${String(err?.name ?? '')} ${String(err?.message ?? '')}`;
  // The message reaches callers (a 503): the kind of failure, never the database's address or
  // account; the target and the driver's error stay in the cause, for the log.
  const cause = new Error(`${describeTarget(target)}: ${String(err?.message ?? e)}`, { cause: e });
  if (UNAVAILABLE.test(text) && !/statement timeout/i.test(text)) {
    return new DatabaseUnavailableError(
      `the site database is not reachable (${failureText(e)})`,
      cause,
    );
  }
  if (/canceling statement due to statement timeout/i.test(text)) {
    return new DatabaseUnavailableError('the site database is too slow to answer', cause);
  }
  return e;
}

/**
 * Wraps a dialect: turns connection failures into DatabaseUnavailableError, so callers answer
 * 503 (or switch to leased mode), not 500, and applies the request path's statement deadline.
 * (Round trips are counted below it, at the transport: see dialectFor.)
 */
type Classify = (e: unknown) => unknown;

class CheckedDialect implements Dialect {
  readonly #inner: Dialect;
  readonly #classify: Classify;
  constructor(inner: Dialect, classify: Classify) {
    this.#inner = inner;
    this.#classify = classify;
  }
  createAdapter() {
    return this.#inner.createAdapter();
  }
  createQueryCompiler() {
    return this.#inner.createQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return this.#inner.createIntrospector(db);
  }
  createDriver(): Driver {
    return new CheckedDriver(this.#inner.createDriver(), this.#classify);
  }
}

class CheckedDriver implements Driver {
  readonly #inner: Driver;
  readonly #classify: Classify;
  constructor(inner: Driver, classify: Classify) {
    this.#inner = inner;
    this.#classify = classify;
  }
  async init() {
    try {
      await this.#inner.init();
    } catch (e: unknown) {
      throw this.#classify(e);
    }
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    let connection: DatabaseConnection;
    try {
      const acquiring = this.#inner.acquireConnection();
      try {
        connection = await limited(acquiring, 'a connection');
      } catch (e: unknown) {
        // A connection that arrives after the deadline goes straight back to the pool.
        acquiring.then((late) => this.#inner.releaseConnection(late)).catch(() => {});
        throw e;
      }
    } catch (e: unknown) {
      throw this.#classify(e);
    }
    const classify = this.#classify;
    return Object.assign(Object.create(connection), {
      async executeQuery<R>(
        query: Parameters<DatabaseConnection['executeQuery']>[0],
      ): Promise<QueryResult<R>> {
        try {
          return await limited(connection.executeQuery<R>(query), 'a statement');
        } catch (e: unknown) {
          throw classify(e);
        }
      },
      streamQuery: connection.streamQuery.bind(connection),
    }) as DatabaseConnection;
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    try {
      return await this.#inner.beginTransaction(original(connection), settings);
    } catch (e: unknown) {
      throw this.#classify(e);
    }
  }
  async commitTransaction(connection: DatabaseConnection) {
    try {
      return await this.#inner.commitTransaction(original(connection));
    } catch (e: unknown) {
      throw this.#classify(e);
    }
  }
  async rollbackTransaction(connection: DatabaseConnection) {
    try {
      return await this.#inner.rollbackTransaction(original(connection));
    } catch (e: unknown) {
      throw this.#classify(e);
    }
  }
  releaseConnection(connection: DatabaseConnection) {
    return this.#inner.releaseConnection(original(connection));
  }
  destroy() {
    return this.#inner.destroy();
  }
}

/** The driver's own connection object behind our counting wrapper. */
function original(connection: DatabaseConnection): DatabaseConnection {
  return Object.getPrototypeOf(connection) as DatabaseConnection;
}
