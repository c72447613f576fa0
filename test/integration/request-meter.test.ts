/**
 * The request meters count at the transport: every site-database round trip a driver makes
 * (a transaction's settings, a streamed query, each attempt of a Data API call the SDK
 * retries) and every DynamoDB request (retries too), per piece of work, not per process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metered } from '../../functions/adapters/meter.ts';
import { openSiteDatabase, type SiteDatabase } from '../../functions/adapters/site-db/connect.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import {
  createStateTable,
  ensureStateTable,
  type StateTable,
} from '../../functions/adapters/state/state-table.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { type DataApiServer, startDataApiServer } from '../helpers/data-api-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import {
  DIALECTS,
  openTestSiteDatabase,
  type TestSiteDatabase,
} from '../helpers/site-databases.ts';

/**
 * An HTTP proxy in front of a service that answers the next `failures` requests itself with a
 * 500 (a transient error the AWS SDK retries), as a flaky network or service would.
 */
async function flakyProxy(target: string) {
  let failures = 0;
  let seen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      seen++;
      if (failures > 0) {
        failures--;
        res.writeHead(500, { 'x-amzn-errortype': 'InternalServerErrorException' });
        res.end(JSON.stringify({ message: 'try again' }));
        return;
      }
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNext(n: number) {
      failures = n;
    },
    get seen() {
      return seen;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const trips = async (site: SiteDatabase, fn: () => Promise<unknown>) => {
  const before = site.stats.roundTrips;
  const { meter } = await metered(fn);
  expect(site.stats.roundTrips - before).toBe(meter.sqlRoundTrips);
  return meter.sqlRoundTrips;
};

describe.each(DIALECTS)('site-database round trips on %s', (dialect) => {
  let t: TestSiteDatabase;
  beforeAll(async () => {
    t = await openTestSiteDatabase(dialect);
    await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('counts a statement once, a transaction with its BEGIN and COMMIT', async () => {
    const db = t.site.db;
    expect(await trips(t.site, () => db.selectFrom('role').select('name').execute())).toBe(1);
    expect(
      await trips(t.site, () =>
        db.transaction().execute((tx) => tx.selectFrom('role').select('name').execute()),
      ),
    ).toBe(3);
  });

  it('counts what transaction settings cost', async () => {
    const n = await trips(t.site, () =>
      t.site.db
        .transaction()
        .setIsolationLevel('serializable')
        .execute((tx) => tx.selectFrom('role').select('name').execute()),
    );
    // PostgreSQL and PGlite take the settings with BEGIN; the Data API needs a statement more.
    expect(n).toBe(dialect === 'data-api' ? 4 : 3);
  });

  it('keeps the counts of concurrent work apart', async () => {
    const db = t.site.db;
    const [a, b] = await Promise.all([
      metered(() => db.selectFrom('role').select('name').execute()),
      metered(async () => {
        await db.selectFrom('role').select('name').execute();
        await db.selectFrom('pool').select('name').execute();
      }),
    ]);
    expect([a.meter.sqlRoundTrips, b.meter.sqlRoundTrips]).toEqual([1, 2]);
  });
});

describe('the Data API behind a flaky network', () => {
  let database: TestDatabase;
  let server: DataApiServer;
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;
  let site: SiteDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startDataApiServer({ connectionString: database.url });
    proxy = await flakyProxy(server.endpoint);
    site = await openSiteDatabase(
      {
        kind: 'data-api',
        clusterArn: 'arn:aws:rds:us-east-1:123456789012:cluster:meter',
        secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:meter',
        database: database.name,
        region: 'us-east-1',
        endpoint: proxy.endpoint,
      },
      { statementTimeoutMs: 10_000 },
    );
  }, 60_000);
  afterAll(async () => {
    await site?.close();
    await proxy?.close();
    await server?.close();
    await database?.drop();
  });

  it('counts each attempt of a call the SDK retries', async () => {
    proxy.failNext(1);
    const seen = proxy.seen;

    const n = await trips(site, () => sql`select 1 as one`.execute(site.db));

    expect(proxy.seen - seen).toBe(2);
    expect(n).toBe(2);
  });

  it('counts a streamed query', async () => {
    const rows: unknown[] = [];
    const n = await trips(site, async () => {
      const query = site.db.selectNoFrom(sql<number>`generate_series(1, 5)`.as('n'));
      for await (const row of query.stream(2)) rows.push(row);
    });
    expect(rows).toHaveLength(5);
    expect(n).toBe(1);
  });
});

describe('DynamoDB requests', () => {
  let dynamo: EmbeddedDynamo;
  let proxy: Awaited<ReturnType<typeof flakyProxy>>;
  let table: StateTable;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    proxy = await flakyProxy(dynamo.endpoint);
    table = createStateTable({
      tableName: 'meter-test',
      region: 'us-east-1',
      endpoint: proxy.endpoint,
    });
    await ensureStateTable(table);
  });
  afterAll(async () => {
    table?.raw.destroy();
    await proxy?.close();
    await dynamo?.close();
  });

  const get = () =>
    table.doc.send(new GetCommand({ TableName: 'meter-test', Key: { pk: 'a', sk: 'b' } }));

  it('counts each request, document client included, and each retry', async () => {
    const once = await metered(get);
    proxy.failNext(1);
    const retried = await metered(get);

    expect(once.meter).toEqual({ sqlRoundTrips: 0, dynamoDbCalls: 1 });
    expect(retried.meter).toEqual({ sqlRoundTrips: 0, dynamoDbCalls: 2 });
  });
});
