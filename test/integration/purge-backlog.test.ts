/**
 * The record purge with a large backlog through the RDS Data API (its stand-in, which like the
 * service refuses responses over 1 MiB): 200,000 expired log rows and 20,000 old finished
 * jobs are deleted in bounded batches that read nothing back, where one `delete ... returning
 * id` in one transaction fails on every run (issue 14, item 10).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PURGE_BATCH_ROWS,
  SqlMaintenanceStore,
} from '../../functions/adapters/site-db/maintenance-store.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { purgeCutoffs } from '../../functions/core/jobs/purge.ts';
import { databaseUrl } from '../helpers/pg.ts';
import { openTestSiteDatabase, type TestSiteDatabase } from '../helpers/site-databases.ts';

const BACKLOG = 200_000;
const JOBS = 20_000;

let t: TestSiteDatabase;
let direct: pg.Client;

const count = async (query: string) => Number((await direct.query(query)).rows[0].n);

beforeAll(async () => {
  t = await openTestSiteDatabase('data-api');
  await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
  if (t.target.kind !== 'data-api') throw new Error('expected the Data API');
  direct = new pg.Client({ connectionString: databaseUrl(t.target.database) });
  await direct.connect();
  // The backlog, written straight to PostgreSQL (fast), as months of logins would leave it.
  await direct.query(`insert into log (at, event, user_name, detail)
    select now() - interval '40 days' - (i || ' seconds')::interval, 'login', 'user' || (i % 500), 'local'
    from generate_series(1, ${BACKLOG}) i`);
  await direct.query(`insert into log (at, event) select now() - interval '1 day', 'recent'
    from generate_series(1, 10)`);
  await direct.query(`insert into work_queue (kind, status, finished_at, created_at)
    select 'refresh_pool', 'finished', now() - interval '8 days', now() - interval '8 days'
    from generate_series(1, ${JOBS})`);
}, 120_000);

afterAll(async () => {
  await direct?.end();
  await t?.close();
});

describe('purge_records with a backlog of 200,000 rows on the Data API', () => {
  it('cannot be done the old way: reading every deleted id back passes the 1 MiB limit', async () => {
    const cutoff = new Date(purgeCutoffs(Date.now(), 30).log);
    const old = t.site.db
      .transaction()
      .execute((tx) => sql`delete from log where at < ${cutoff} returning id`.execute(tx));

    await expect(old).rejects.toThrow(/response size limit/);
    expect(await count('select count(*) as n from log')).toBe(BACKLOG + 10);
  });

  it('deletes in bounded batches, counting without reading rows back', async () => {
    const store = new SqlMaintenanceStore(t.site.db);
    const trips = t.site.stats.roundTrips;
    const started = performance.now();

    const result = await store.purge(purgeCutoffs(Date.now(), 30));
    const ms = performance.now() - started;

    expect(result.complete).toBe(true);
    expect(result.deleted.log).toBe(BACKLOG);
    expect(result.deleted.work_queue).toBe(JOBS);
    expect(await count('select count(*) as n from log')).toBe(10);
    expect(await count('select count(*) as n from work_queue')).toBe(0);
    // 40 full batches of log rows and one short one, 4 + 1 of jobs, one each for the rest.
    const logBatches = Math.ceil((BACKLOG + 1) / PURGE_BATCH_ROWS);
    expect(result.batches).toBe(logBatches + Math.ceil((JOBS + 1) / PURGE_BATCH_ROWS) + 2 + 11);
    console.info(
      `purge of ${BACKLOG + JOBS} rows through the Data API stand-in: ${Math.round(ms)} ms, ` +
        `${result.batches} batches, ${t.site.stats.roundTrips - trips} round trips`,
    );
  }, 120_000);

  it('stops when its time is up and finishes at the next run', async () => {
    await direct.query(`insert into log (at, event) select now() - interval '40 days', 'old'
      from generate_series(1, ${PURGE_BATCH_ROWS * 2})`);
    const store = new SqlMaintenanceStore(t.site.db);

    const first = await store.purge(purgeCutoffs(Date.now(), 30), { budgetMs: 0 });
    const second = await store.purge(purgeCutoffs(Date.now(), 30));

    expect(first).toMatchObject({ complete: false, batches: 0 });
    expect(second.complete).toBe(true);
    expect(second.deleted.log).toBe(PURGE_BATCH_ROWS * 2);
  });
});
