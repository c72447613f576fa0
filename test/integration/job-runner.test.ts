/**
 * The local job runner on the shared `work_queue` (PostgreSQL), under the guide's job
 * limits: a 2-CPU node runs at most 12 jobs at once; above the load limit no job starts,
 * and the waiting jobs run once the load is back under it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqlJobLedger } from '../../functions/adapters/jobs/work-queue-ledger.ts';
import {
  WorkQueueJobQueue,
  WorkQueueJobSource,
} from '../../functions/adapters/jobs/work-queue-queue.ts';
import { createLogger } from '../../functions/adapters/logger.ts';
import { PrometheusMetrics } from '../../functions/adapters/metrics/prometheus-metrics.ts';
import { SqlClusterStore } from '../../functions/adapters/site-db/cluster-store.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { jobBodies } from '../../functions/core/jobs/bodies.ts';
import { maxJobs } from '../../functions/core/jobs/limits.ts';
import type { MaintenanceStore } from '../../functions/core/jobs/ports.ts';
import type { RunnerDeps } from '../../functions/core/jobs/runner.ts';
import { NO_METRICS } from '../../functions/core/metrics/ports.ts';
import { startJobRunner } from '../../functions/local/job-runner.ts';
import { openTestSiteDatabase, type TestSiteDatabase } from '../helpers/site-databases.ts';

const logger = createLogger('test', 'SILENT');
let t: TestSiteDatabase;
let ledger: SqlJobLedger;
let queue: WorkQueueJobQueue;
let running = 0;
let peak = 0;
let done = 0;

const deps = (jobMs: number): RunnerDeps => ({
  ledger,
  siteId: 1,
  logger,
  clock: { now: () => Date.now() },
  staleAfterMs: 60_000,
  metrics: NO_METRICS,
  bodies: jobBodies(
    {
      self: { siteId: 1, uuid: 'u', name: 'b', address: 'a', version: 'v' },
      cluster: new SqlClusterStore(t.site.db),
      maintenance: {} as MaintenanceStore,
      clock: { now: () => Date.now() },
    },
    {
      delayed_release: async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(jobMs);
        running--;
        done++;
      },
    },
  ),
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

const pending = async () =>
  (
    await sql<{
      n: number;
    }>`select count(*)::int as n from work_queue where status = 'pending'`.execute(t.site.db)
  ).rows[0]!.n;

beforeAll(async () => {
  t = await openTestSiteDatabase('postgres');
  await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
  ledger = new SqlJobLedger(t.site.db);
  queue = new WorkQueueJobQueue(ledger);
}, 60_000);
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  running = 0;
  peak = 0;
  done = 0;
});

describe('the local job runner', () => {
  it('runs 200 flooded jobs on a 2-CPU node, never more than 12 at once', async () => {
    for (let i = 0; i < 200; i++) {
      await queue.enqueue({ kind: 'delayed_release', desktopId: 1, user: `flood-${i}` });
    }
    const started = Date.now();
    const runner = startJobRunner({
      source: new WorkQueueJobSource(deps(40)),
      logger,
      cpus: 2,
      loadAverage: () => 0.5,
      pollMs: 50,
      metrics: NO_METRICS,
    });

    await until(() => done === 200, 30_000);
    await runner.stop();
    const finished = await ledger.list({ status: 'finished', limit: 1000 });

    console.log(
      `flood: 200 jobs in ${Date.now() - started} ms, peak ${peak} running (limit ${maxJobs(2)})`,
    );
    expect(maxJobs(2)).toBe(12);
    expect(peak).toBeLessThanOrEqual(12);
    expect(peak).toBe(12);
    expect(runner.stats().peak).toBeLessThanOrEqual(12);
    expect(finished.length).toBe(200);
  });

  it('starts no job while the load average is at or over the limit, then runs them all', async () => {
    let load = 9.5;
    for (let i = 0; i < 20; i++) {
      await queue.enqueue({ kind: 'delayed_release', desktopId: 1, user: `load-${i}` });
    }
    const metrics = await PrometheusMetrics.create();
    const runner = startJobRunner({
      source: new WorkQueueJobSource(deps(5)),
      logger,
      cpus: 2,
      loadAverage: () => load,
      pollMs: 50,
      metrics,
    });

    await sleep(1000);
    load = 3; // exactly the maximum for 2 CPUs: still held back
    await sleep(700);
    const waiting = await pending();
    const whileHigh = { done, waits: runner.stats().loadWaits };
    const counted = /deskbroker_job_limit_waits_total\{limit="load"\} (\d+)/.exec(
      (await metrics.exposition()).body,
    );
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(whileHigh.waits);
    load = 2.9;
    await until(() => done === 20, 10_000);
    await runner.stop();

    expect(runner.stats().maxLoad).toBe(3);
    expect(whileHigh.done).toBe(0);
    expect(waiting).toBe(20);
    expect(whileHigh.waits).toBeGreaterThan(5);
    expect(await pending()).toBe(0);
  });

  it('still runs its own heartbeat while the load holds other jobs back', async () => {
    await queue.enqueue({ kind: 'delayed_release', desktopId: 1, user: 'held-back' });
    await queue.enqueue(
      { kind: 'heartbeat', siteId: 1 },
      { siteId: 1, idempotencyKey: 'hb-exempt' },
    );
    const runner = startJobRunner({
      source: new WorkQueueJobSource(deps(5)),
      logger,
      cpus: 2,
      loadAverage: () => 50,
      pollMs: 50,
      metrics: NO_METRICS,
    });

    await until(
      async () =>
        (await ledger.list({ kind: 'heartbeat', status: 'finished', limit: 5 })).length === 1,
      5000,
    );
    await runner.stop();

    expect(done).toBe(0);
    expect(await pending()).toBe(1);
    await sql`delete from work_queue`.execute(t.site.db);
  });
});
