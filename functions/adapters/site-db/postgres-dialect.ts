/**
 * The PostgreSQL dialect over `pg` (connect.ts loads it for a `postgres://` site database), with
 * every exchange counted as a round trip.
 */
import { PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { DatabaseTarget } from '../../config.ts';
import { countSqlRoundTrip } from '../meter.ts';
import type { OpenOptions } from './connect.ts';

/** The dialect of a `postgres://` target, its pool's queries counted into `stats`. */
export async function postgresDialect(
  target: Extract<DatabaseTarget, { kind: 'postgres' }>,
  options: OpenOptions,
  stats: { roundTrips: number },
): Promise<PostgresDialect> {
  const pg = (await import('pg')).default;
  // int8 (bigserial ids, counts) as numbers, as the other dialects return them.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? Math.min(options.statementTimeoutMs, 5000),
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 4,
    keepAlive: true,
    types,
  });
  // A client that loses its server emits 'error' (on the pool when idle, on the client
  // when checked out); without listeners that would crash the process. The query in
  // flight is rejected anyway, and the next one reports the outage.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    // Every exchange with the server goes through `query` (Kysely's statements, BEGIN, COMMIT).
    const query = client.query;
    client.query = ((...args: unknown[]) => {
      countSqlRoundTrip(stats);
      return (query as (...a: unknown[]) => unknown).apply(client, args);
    }) as typeof client.query;
  });
  return new PostgresDialect({ pool: callbackStylePool(pool) });
}

/** What {@link callbackStylePool} needs of pg's Pool and its clients. */
interface PgPool {
  readonly options: object;
  readonly Client?: PostgresPool['Client'];
  connect(): Promise<PgClient>;
  end(): Promise<void>;
}
interface PgClient {
  readonly processID?: number;
  query(sql: string, values: unknown[], callback: (e: Error | null, r: unknown) => void): void;
  query(cursor: unknown): unknown;
  release(destroy?: boolean): void;
}

/**
 * pg's Pool for Kysely, with each query run in pg's callback style rather than its promise
 * style. With the promise style V8 promotes every row a query returns to the old generation
 * (measured here: reading 100 MB of rows promoted 110 MB, against 5 MB in callback style),
 * so a large read such as a log export grows the process by tens of MB until a full
 * collection; in callback style the rows die young.
 */
function callbackStylePool(pool: PgPool): PostgresPool {
  // One wrapper per pooled client: Kysely keeps its connection state by client object.
  const wrappers = new WeakMap<PgClient, PostgresPoolClient>();
  const wrap = (client: PgClient): PostgresPoolClient => {
    let wrapper = wrappers.get(client);
    if (!wrapper) {
      wrapper = {
        get processID() {
          return client.processID;
        },
        query: ((sql: unknown, parameters?: readonly unknown[]) =>
          typeof sql === 'string'
            ? new Promise((resolve, reject) =>
                client.query(sql, [...(parameters ?? [])], (e, r) =>
                  e ? reject(e) : resolve(r as never),
                ),
              )
            : client.query(sql)) as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    options: pool.options,
    Client: pool.Client,
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}
