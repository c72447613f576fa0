/**
 * The guide's "Specifying a Failover Database": with a secondary database configured, the
 * broker switches to it when the active one stops answering, and keeps it as the active one
 * afterwards (until it, in turn, stops answering). The choice is kept in the state table
 * (DynamoDB, or the local runtime's stand-in in DESKBROKER_HOME), so every Lambda and every
 * broker sharing the state table agrees on it, and it survives restarts.
 *
 * Switching happens when a connection is acquired: after the active database failed to
 * connect or failed a query, the next acquisition checks it (`select 1`) and, if it does
 * not answer but the other one does, switches. A statement in flight is never retried on
 * the other database (it may have run).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CamelCasePlugin,
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  type TransactionSettings,
} from 'kysely';
import { type DatabaseTarget, describeTarget } from '../../config.ts';
import { DatabaseUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../logger.ts';
import type { StateTable } from '../state/state-table.ts';
import { checkedDialect, type OpenOptions, type SiteDatabase } from './connect.ts';
import type { Database } from './schema.ts';

export type Which = 'primary' | 'secondary';

/** Where the active database is remembered. */
export interface ActiveDatabaseStore {
  read(): Promise<Which | undefined>;
  write(which: Which): Promise<void>;
}

/**
 * The choice in the state table, under its own key. It names the pair of databases, so a
 * changed configuration starts again on the primary.
 */
export function stateTableActiveStore(
  state: StateTable,
  primary: DatabaseTarget,
  secondary: DatabaseTarget,
): ActiveDatabaseStore {
  const key = { pk: 'site-db#failover', sk: 'active' };
  const pair = `${describeTarget(primary)} | ${describeTarget(secondary)}`;
  return {
    async read() {
      const out = await state.doc.send(new GetCommand({ TableName: state.tableName, Key: key }));
      const item = out.Item as { active?: Which; pair?: string } | undefined;
      return item?.pair === pair ? item.active : undefined;
    },
    async write(which) {
      await state.doc.send(
        new PutCommand({
          TableName: state.tableName,
          Item: { ...key, active: which, pair, switchedAt: new Date().toISOString() },
        }),
      );
    },
  };
}

export interface FailoverOptions extends OpenOptions {
  readonly store: ActiveDatabaseStore;
  readonly logger: Logger;
  /** How often the remembered choice is re-read, so all brokers follow a switch (ms). */
  readonly recheckMs?: number;
}

/** A site database over a primary and a secondary. */
export async function openFailoverSiteDatabase(
  primary: DatabaseTarget,
  secondary: DatabaseTarget,
  options: FailoverOptions,
): Promise<SiteDatabase> {
  const stats = { roundTrips: 0 };
  const dialects = [
    await checkedDialect(primary, options, stats),
    await checkedDialect(secondary, options, stats),
  ] as const;
  const targets = [primary, secondary] as const;
  const driver = new FailoverDriver(
    [dialects[0].createDriver(), dialects[1].createDriver()],
    targets,
    options,
  );
  const dialect: Dialect = {
    createAdapter: () => dialects[0].createAdapter(),
    createQueryCompiler: () => dialects[0].createQueryCompiler(),
    createIntrospector: (db) => dialects[0].createIntrospector(db),
    createDriver: () => driver,
  };
  const db = new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] });
  return {
    db,
    get target() {
      return targets[driver.active];
    },
    stats,
    failover: {
      active: () => ({ which: NAMES[driver.active], target: targets[driver.active] }),
    },
    close: () => db.destroy(),
  };
}

const NAMES = ['primary', 'secondary'] as const;
type Index = 0 | 1;

class FailoverDriver implements Driver {
  readonly #drivers: readonly [Driver, Driver];
  readonly #targets: readonly [DatabaseTarget, DatabaseTarget];
  readonly #options: FailoverOptions;
  readonly #initialized: [Promise<void> | undefined, Promise<void> | undefined] = [
    undefined,
    undefined,
  ];
  readonly #origin = new WeakMap<DatabaseConnection, { index: Index; inner: DatabaseConnection }>();
  #active: Index = 0;
  /** The active database failed since it last answered: check it before using it again. */
  #suspect = false;
  #lastRead = Number.NEGATIVE_INFINITY;

  constructor(
    drivers: readonly [Driver, Driver],
    targets: readonly [DatabaseTarget, DatabaseTarget],
    options: FailoverOptions,
  ) {
    this.#drivers = drivers;
    this.#targets = targets;
    this.#options = options;
  }

  get active(): Index {
    return this.#active;
  }

  async init(): Promise<void> {}

  #init(index: Index): Promise<void> {
    this.#initialized[index] ??= this.#drivers[index].init().catch((e: unknown) => {
      this.#initialized[index] = undefined;
      throw e;
    });
    return this.#initialized[index]!;
  }

  /** Follows a switch made by another broker (or before a restart). */
  async #follow(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastRead < (this.#options.recheckMs ?? 15_000)) return;
    this.#lastRead = now;
    const remembered = await this.#options.store.read().catch((e: unknown) => {
      this.#options.logger.warn('cannot read the active site database', { error: String(e) });
      return undefined;
    });
    const index: Index | undefined =
      remembered === undefined ? undefined : remembered === 'primary' ? 0 : 1;
    if (index !== undefined && index !== this.#active) {
      this.#options.logger.info('following the active site database', { active: remembered });
      this.#active = index;
      this.#suspect = false;
    }
  }

  async #acquire(index: Index, check: boolean): Promise<DatabaseConnection> {
    await this.#init(index);
    const inner = await this.#drivers[index].acquireConnection();
    if (check) {
      try {
        await inner.executeQuery(CompiledQuery.raw('select 1'));
      } catch (e: unknown) {
        await this.#drivers[index].releaseConnection(inner).catch(() => {});
        throw e;
      }
    }
    const wrapped = Object.assign(Object.create(inner) as DatabaseConnection, {
      executeQuery: async (query: CompiledQuery, opts?: unknown) => {
        try {
          return await inner.executeQuery(query, opts as never);
        } catch (e: unknown) {
          if (e instanceof DatabaseUnavailableError && index === this.#active) this.#suspect = true;
          throw e;
        }
      },
      streamQuery: inner.streamQuery.bind(inner),
    });
    this.#origin.set(wrapped, { index, inner });
    return wrapped;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#follow();
    const from = this.#active;
    let failure: unknown;
    try {
      const connection = await this.#acquire(from, this.#suspect);
      this.#suspect = false;
      return connection;
    } catch (e: unknown) {
      if (!(e instanceof DatabaseUnavailableError)) throw e;
      failure = e;
    }
    const to: Index = from === 0 ? 1 : 0;
    let connection: DatabaseConnection;
    try {
      connection = await this.#acquire(to, true);
    } catch {
      throw failure;
    }
    if (this.#active === from) {
      this.#active = to;
      this.#suspect = false;
      this.#options.logger.warn('site database switched', {
        from: describeTarget(this.#targets[from]),
        to: describeTarget(this.#targets[to]),
        active: NAMES[to],
      });
      await this.#options.store.write(NAMES[to]).catch((e: unknown) => {
        this.#options.logger.error('cannot remember the active site database', {
          error: String(e),
        });
      });
    }
    return connection;
  }

  #unwrap(connection: DatabaseConnection): { index: Index; inner: DatabaseConnection } {
    const origin = this.#origin.get(connection);
    if (!origin) throw new Error('connection not acquired through this driver');
    return origin;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const { index, inner } = this.#unwrap(connection);
    return this.#drivers[index].beginTransaction(inner, settings);
  }

  commitTransaction(connection: DatabaseConnection) {
    const { index, inner } = this.#unwrap(connection);
    return this.#drivers[index].commitTransaction(inner);
  }

  rollbackTransaction(connection: DatabaseConnection) {
    const { index, inner } = this.#unwrap(connection);
    return this.#drivers[index].rollbackTransaction(inner);
  }

  releaseConnection(connection: DatabaseConnection) {
    const { index, inner } = this.#unwrap(connection);
    return this.#drivers[index].releaseConnection(inner);
  }

  async destroy(): Promise<void> {
    await Promise.all(
      ([0, 1] as const).map((i) => (this.#initialized[i] ? this.#drivers[i].destroy() : undefined)),
    );
  }
}
