/**
 * The failover database ("Specifying a Failover Database"), on two real PostgreSQL
 * databases behind TCP proxies that the test cuts: the broker switches to the one that
 * answers, keeps it as the active one afterwards, and remembers the choice in the state
 * table, so a new broker (or a restarted one) starts on it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/logger.ts';
import type { SiteDatabase } from '../../functions/adapters/site-db/connect.ts';
import {
  type ActiveDatabaseStore,
  openFailoverSiteDatabase,
  stateTableActiveStore,
  type Which,
} from '../../functions/adapters/site-db/failover.ts';
import { createStateTable, ensureStateTable } from '../../functions/adapters/state/state-table.ts';
import type { DatabaseTarget } from '../../functions/config.ts';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const logger = createLogger('test', 'SILENT');
let primary: TestDatabase;
let secondary: TestDatabase;
let primaryProxy: TcpProxy;
let secondaryProxy: TcpProxy;
let dynamo: EmbeddedDynamo;

const viaProxy = (db: TestDatabase, proxy: TcpProxy): DatabaseTarget => {
  const url = new URL(db.url);
  url.host = `127.0.0.1:${proxy.port}`;
  return { kind: 'postgres', url: url.toString() };
};

function memoryStore(): ActiveDatabaseStore & { value?: Which } {
  const store: ActiveDatabaseStore & { value?: Which } = {
    async read() {
      return store.value;
    },
    async write(which) {
      store.value = which;
    },
  };
  return store;
}

/** Which database answered: each holds a row naming itself. */
async function answering(site: SiteDatabase): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await sql<{ name: string }>`select name from pool`.execute(site.db);
      return r.rows[0]!.name;
    } catch (e: unknown) {
      // The statement in flight when a database goes away fails; the next one switches.
      if (!(e instanceof DatabaseUnavailableError) || attempt > 0) throw e;
    }
  }
}

const open = (store: ActiveDatabaseStore) =>
  openFailoverSiteDatabase(viaProxy(primary, primaryProxy), viaProxy(secondary, secondaryProxy), {
    statementTimeoutMs: 2000,
    connectTimeoutMs: 1000,
    store,
    logger,
    recheckMs: 0,
  });

beforeAll(async () => {
  [primary, secondary] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  for (const [db, name] of [
    [primary, 'primary-db'],
    [secondary, 'secondary-db'],
  ] as const) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('create table pool (name text)');
    await client.query('insert into pool values ($1)', [name]);
    await client.end();
  }
  primaryProxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  secondaryProxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  dynamo = await startEmbeddedDynamo();
}, 60_000);

afterAll(async () => {
  await primaryProxy?.close();
  await secondaryProxy?.close();
  await dynamo?.close();
  await primary?.drop();
  await secondary?.drop();
});

describe('failover database', () => {
  it('switches to the secondary when the primary stops answering, and stays there', async () => {
    const store = memoryStore();
    const site = await open(store);
    try {
      const before = await answering(site);
      await primaryProxy.cut('refuse');
      const during = await answering(site);
      const activeDuring = site.failover!.active().which;
      await primaryProxy.restore();
      const after = await answering(site);

      expect(before).toBe('primary-db');
      expect(during).toBe('secondary-db');
      expect(activeDuring).toBe('secondary');
      expect(after).toBe('secondary-db');
      expect(store.value).toBe('secondary');
    } finally {
      await site.close();
    }
  });

  it('starts on the remembered database, and switches back when that one fails in turn', async () => {
    const store = memoryStore();
    store.value = 'secondary';
    const site = await open(store);
    try {
      const first = await answering(site);
      await secondaryProxy.cut('refuse');
      const second = await answering(site);
      await secondaryProxy.restore();

      expect(first).toBe('secondary-db');
      expect(second).toBe('primary-db');
      expect(store.value).toBe('primary');
    } finally {
      await site.close();
    }
  });

  it('reports the database as unavailable when neither answers', async () => {
    const site = await open(memoryStore());
    await primaryProxy.cut('refuse');
    await secondaryProxy.cut('refuse');
    try {
      await expect(sql`select 1`.execute(site.db)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await primaryProxy.restore();
      await secondaryProxy.restore();
      await site.close();
    }
  });

  it('keeps the choice in the state table, for the pair of databases it was made for', async () => {
    const state = createStateTable({
      tableName: 'failover-test',
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
    });
    await ensureStateTable(state);
    const a = viaProxy(primary, primaryProxy);
    const b = viaProxy(secondary, secondaryProxy);
    const store = stateTableActiveStore(state, a, b);

    const empty = await store.read();
    await store.write('secondary');
    const again = await stateTableActiveStore(state, a, b).read();
    const otherPair = await stateTableActiveStore(state, b, a).read();
    state.raw.destroy();

    expect(empty).toBeUndefined();
    expect(again).toBe('secondary');
    expect(otherPair).toBeUndefined();
  });
});
