/**
 * The job ledger (`work_queue`) and the cluster records (`broker`) on each dialect: status
 * transitions in one statement, SKIP LOCKED claims, idempotent enqueues, fencing, and the
 * guide's Remove semantics.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqlJobLedger } from '../../functions/adapters/jobs/work-queue-ledger.ts';
import {
  WorkQueueJobQueue,
  WorkQueueJobSource,
} from '../../functions/adapters/jobs/work-queue-queue.ts';
import { SqlClusterStore } from '../../functions/adapters/site-db/cluster-store.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { jobBodies } from '../../functions/core/jobs/bodies.ts';
import { checkRegistration, removeBroker } from '../../functions/core/jobs/cluster.ts';
import type { JobPayload } from '../../functions/core/jobs/payload.ts';
import type { BrokerIdentity, MaintenanceStore } from '../../functions/core/jobs/ports.ts';
import type { RunnerDeps } from '../../functions/core/jobs/runner.ts';
import { NO_METRICS } from '../../functions/core/metrics/ports.ts';
import {
  DIALECTS,
  openTestSiteDatabase,
  type TestSiteDatabase,
} from '../helpers/site-databases.ts';

const silent = { info() {}, warn() {}, error() {} };
const release = (user: string): JobPayload => ({ kind: 'delayed_release', desktopId: 1, user });
const identity = (siteId: number, uuid = `uuid-${siteId}`): BrokerIdentity => ({
  siteId,
  uuid,
  name: `broker-${siteId}`,
  address: '127.0.0.1',
  version: '0.1.0',
});

describe.each(DIALECTS)('job ledger on %s', (dialect) => {
  let t: TestSiteDatabase;
  let ledger: SqlJobLedger;
  let cluster: SqlClusterStore;

  beforeAll(async () => {
    t = await openTestSiteDatabase(dialect);
    await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
    ledger = new SqlJobLedger(t.site.db);
    cluster = new SqlClusterStore(t.site.db);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await sql`delete from work_queue`.execute(t.site.db);
    await sql`delete from broker`.execute(t.site.db);
  });

  it('keeps one job per idempotency key, and a pinned job for its broker only', async () => {
    expect(await ledger.record(release('a'), 'k1')).toBe(true);
    expect(await ledger.record(release('a'), 'k1')).toBe(false);
    await ledger.record(release('b'), 'pinned', { siteId: 7 });

    const byOther = await ledger.claim(1, 10, 60_000);
    const byOwner = await ledger.claim(7, 10, 60_000);

    expect(byOther.map((j) => j.idempotencyKey)).toEqual(['k1']);
    expect(byOwner.map((j) => j.idempotencyKey)).toEqual(['pinned']);
    expect(byOwner[0]).toMatchObject({
      kind: 'delayed_release',
      attempts: 1,
      payload: release('b'),
    });
  });

  it('never hands one job to two concurrent claimers', async () => {
    for (let i = 0; i < 40; i++) await ledger.record(release(`u${i}`), `c${i}`);

    const rounds = await Promise.all(
      [1, 2, 3, 4].map(async (site) => {
        const mine: string[] = [];
        for (let r = 0; r < 5; r++) {
          for (const j of await ledger.claim(site, 3, 60_000)) mine.push(j.idempotencyKey);
        }
        return mine;
      }),
    );

    const all = rounds.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(40);
  });

  it('starts a delivered job once, takes over a stale one, and fences the old runner', async () => {
    const first = await ledger.start('m1', release('a'), 1, 60_000);
    const again = await ledger.start('m1', release('a'), 2, 60_000);
    const takenOver = await ledger.start('m1', release('a'), 2, 0);

    expect(first).toMatchObject({ attempts: 1 });
    expect(again).toBeUndefined();
    expect(takenOver).toMatchObject({ attempts: 2 });
    expect(await ledger.finish(first!, 1)).toBe(false);
    expect(await ledger.finish(takenOver!, 2)).toBe(true);
    expect(await ledger.start('m1', release('a'), 3, 0)).toBeUndefined();
  });

  it('defers a failed job for any broker after the backoff, and aborts it', async () => {
    await ledger.record(release('a'), 'f1');
    const [job] = await ledger.claim(1, 1, 60_000);

    await ledger.fail(job!, 1, 'boom', Date.now() + 60_000);
    const notYet = await ledger.claim(2, 5, 60_000);
    await sql`update work_queue set run_after = now() where idempotency_key = 'f1'`.execute(
      t.site.db,
    );
    const [retry] = await ledger.claim(2, 5, 60_000);
    await ledger.fail(retry!, 2, 'boom again', undefined);
    const [row] = await ledger.list({ limit: 10 });

    expect(notYet).toEqual([]);
    expect(retry).toMatchObject({ idempotencyKey: 'f1', attempts: 2 });
    expect(row).toMatchObject({
      status: 'aborted',
      siteId: 2,
      attempts: 2,
      error: 'site 2: boom again',
    });
    expect(row!.finishedAt).toBeGreaterThan(0);
  });

  it('lists the job queue with filters', async () => {
    await ledger.record(release('a'), 'l1');
    await ledger.record({ kind: 'purge_records' }, 'l2');
    const [claimed] = await ledger.claim(3, 1, 60_000);
    await ledger.finish(claimed!, 3);

    expect((await ledger.list({ limit: 10 })).map((j) => j.idempotencyKey)).toEqual(['l2', 'l1']);
    expect((await ledger.list({ status: 'finished', limit: 10 })).map((j) => j.siteId)).toEqual([
      3,
    ]);
    expect((await ledger.list({ kind: 'purge_records', limit: 10 })).length).toBe(1);
    expect((await ledger.list({ siteId: 3, limit: 10 })).length).toBe(1);
    expect((await ledger.list({ limit: 1 })).length).toBe(1);
  });

  it('runs every job once when each is enqueued twice and two brokers take them', async () => {
    const runs = new Map<string, number>();
    const deps = (siteId: number): RunnerDeps => ({
      ledger,
      siteId,
      logger: silent,
      clock: { now: () => Date.now() },
      staleAfterMs: 60_000,
      metrics: NO_METRICS,
      bodies: jobBodies(
        {
          self: identity(siteId),
          cluster,
          maintenance: {} as MaintenanceStore,
          clock: { now: () => Date.now() },
        },
        {
          delayed_release: async (job) => {
            runs.set(job.user, (runs.get(job.user) ?? 0) + 1);
          },
        },
      ),
    });
    const queue = new WorkQueueJobQueue(ledger);
    for (let i = 0; i < 30; i++) {
      for (let copy = 0; copy < 2; copy++) {
        await queue.enqueue(release(`u${i}`), { idempotencyKey: `twice-${i}` });
      }
    }
    const sources = [new WorkQueueJobSource(deps(1)), new WorkQueueJobSource(deps(2))];

    await Promise.all(
      sources.map(async (source) => {
        for (;;) {
          const jobs = await source.take(4);
          if (jobs.length === 0) return;
          await Promise.all(jobs.map((j) => j.run()));
        }
      }),
    );

    expect(runs.size).toBe(30);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect((await ledger.list({ status: 'finished', limit: 100 })).length).toBe(30);
  });

  it('registers brokers, refuses a live duplicate site ID, and removes only a dead broker', async () => {
    const one = identity(1);
    await cluster.register(one, checkRegistration(one));
    const impostor = identity(1, 'another-uuid');

    await expect(cluster.register(impostor, checkRegistration(impostor))).rejects.toThrow(
      /site ID 1 is in use by the running broker/,
    );
    expect(await cluster.register(one, checkRegistration(one))).toEqual({ rejoined: true });
    await expect(removeBroker(cluster, 1)).rejects.toThrow(/is Running/);

    await ledger.record({ kind: 'heartbeat', siteId: 1 }, 'hb-1', { siteId: 1 });
    await ledger.record(release('pinned'), 'p-1', { siteId: 1 });
    const done = await ledger.start('d-1', release('done'), 1, 60_000);
    await ledger.finish(done!, 1);
    await ledger.start('r-1', release('running'), 1, 60_000);
    await cluster.stop(one);
    const heartbeats = await ledger.list({ kind: 'heartbeat', limit: 5 });
    const snapshot = await cluster.snapshot();
    const removed = await removeBroker(cluster, 1);
    const left = await ledger.list({ limit: 10 });

    expect(snapshot.brokers.map((b) => b.status)).toEqual(['stopped']);
    expect(heartbeats.map((j) => j.status)).toEqual(['cancelled']);
    expect(removed).toEqual({ reassignedJobs: 2, removedJobs: 2 });
    expect(left.map((j) => [j.idempotencyKey, j.status, j.siteId])).toEqual([
      ['r-1', 'pending', null],
      ['p-1', 'pending', null],
    ]);
    expect((await cluster.snapshot()).brokers).toEqual([]);
    await expect(removeBroker(cluster, 1)).rejects.toThrow(/no broker with site ID 1/);
  });
});
