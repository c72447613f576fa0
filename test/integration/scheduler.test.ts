/**
 * The local scheduler of two brokers on one queue: each periodic job is enqueued once per
 * period for the whole cluster, and each broker enqueues its own heartbeat, pinned to it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlJobLedger } from '../../functions/adapters/jobs/work-queue-ledger.ts';
import { WorkQueueJobQueue } from '../../functions/adapters/jobs/work-queue-queue.ts';
import { createLogger } from '../../functions/adapters/logger.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { startScheduler } from '../../functions/local/scheduler.ts';
import { openTestSiteDatabase, type TestSiteDatabase } from '../helpers/site-databases.ts';

let t: TestSiteDatabase;

beforeAll(async () => {
  t = await openTestSiteDatabase('postgres');
  await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('the local scheduler', () => {
  it('enqueues each periodic job once per period across brokers, and one heartbeat per broker', async () => {
    const ledger = new SqlJobLedger(t.site.db);
    const queue = new WorkQueueJobQueue(ledger);
    const started = Date.now();
    const schedulers = [1, 2].map((siteId) =>
      startScheduler({
        queue,
        siteId,
        clock: { now: () => Date.now() },
        logger: createLogger('test', 'SILENT'),
        heartbeatSeconds: async () => 1,
        jobs: [{ job: { kind: 'refresh_pool' }, everySeconds: 1 }],
        tickMs: 50,
      }),
    );

    await sleep(2600);
    for (const s of schedulers) await s.stop();
    const periods = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    const jobs = await ledger.list({ limit: 100 });
    const refresh = jobs.filter((j) => j.kind === 'refresh_pool');
    const beats = (site: number) =>
      jobs.filter((j) => j.kind === 'heartbeat' && j.siteId === site && j.status === 'pending');

    // Two schedulers ticking 20 times a second, yet one row per period (the first may be missed
    // when the test starts at the very end of a second).
    expect(refresh.length).toBeGreaterThanOrEqual(Math.max(2, periods - 1));
    expect(refresh.length).toBeLessThanOrEqual(periods);
    expect(beats(1).length).toBe(refresh.length);
    expect(beats(2).length).toBe(refresh.length);
    expect(beats(1).every((j) => (j.payload as { siteId: number }).siteId === 1)).toBe(true);
  });
});
