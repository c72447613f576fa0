/**
 * The job runner's outcomes over an in-memory ledger with the SQL ledger's transitions:
 * once in effect, backoff, giving up after five tries; and the built-in heartbeat body.
 */
import { describe, expect, it } from 'vitest';
import { jobBodies } from '../../functions/core/jobs/bodies.ts';
import type { JobPayload } from '../../functions/core/jobs/payload.ts';
import type {
  BrokerIdentity,
  ClaimedJob,
  ClusterStore,
  JobLedger,
  MaintenanceStore,
} from '../../functions/core/jobs/ports.ts';
import {
  type JobBodies,
  runClaimedJob,
  runDeliveredJob,
} from '../../functions/core/jobs/runner.ts';
import { NO_METRICS } from '../../functions/core/metrics/ports.ts';

const silent = { info() {}, warn() {}, error() {} };

/** A ledger in memory, with the SQL ledger's transitions. */
function memoryLedger() {
  const rows = new Map<
    string,
    { id: number; job: unknown; status: string; attempts: number; error?: string }
  >();
  let nextId = 1;
  const ledger: JobLedger = {
    async record(job, key) {
      if (rows.has(key)) return false;
      rows.set(key, { id: nextId++, job, status: 'pending', attempts: 0 });
      return true;
    },
    async start(key, job) {
      const row = rows.get(key) ?? { id: nextId++, job, status: 'pending', attempts: 0 };
      rows.set(key, row);
      if (row.status !== 'pending' && row.status !== 'deferred') return undefined;
      row.status = 'running';
      row.attempts++;
      return {
        id: row.id,
        kind: (job as JobPayload).kind,
        idempotencyKey: key,
        attempts: row.attempts,
        payload: row.job,
      };
    },
    async claim() {
      return [];
    },
    async finish(job) {
      const row = rows.get(job.idempotencyKey)!;
      if (row.status !== 'running' || row.attempts !== job.attempts) return false;
      row.status = 'finished';
      return true;
    },
    async fail(job, _siteId, error, retryAt) {
      const row = rows.get(job.idempotencyKey)!;
      row.status = retryAt === undefined ? 'aborted' : 'deferred';
      row.error = error;
    },
    async list() {
      return [];
    },
  };
  return { ledger, rows };
}

describe('the job runner', () => {
  const counted = () => {
    const runs: string[] = [];
    const bodies = jobBodies(
      {
        self: { siteId: 1, uuid: 'u', name: 'n', address: 'a', version: 'v' },
        cluster: {} as ClusterStore,
        maintenance: {} as MaintenanceStore,
        clock: { now: () => 0 },
      },
      {
        delayed_release: async (job, context) => {
          runs.push(`${job.user}@${context.attempt}`);
          if (job.user === 'poison') throw new Error('always fails');
        },
      },
    );
    return { runs, bodies };
  };
  const deps = (ledger: JobLedger, bodies: JobBodies) => ({
    ledger,
    bodies,
    siteId: 1,
    logger: silent,
    clock: { now: () => 1_000_000 },
    retry: { baseSeconds: 10, maxSeconds: 900 },
    staleAfterMs: 60_000,
    metrics: NO_METRICS,
  });
  const job = (user: string): JobPayload => ({ kind: 'delayed_release', desktopId: 1, user });

  it('runs a delivered job once, however often it is delivered', async () => {
    const { ledger, rows } = memoryLedger();
    const { runs, bodies } = counted();
    const message = { idempotencyKey: 'k', job: job('ann') };

    const first = await runDeliveredJob(deps(ledger, bodies), message, 1);
    const second = await runDeliveredJob(deps(ledger, bodies), message, 2);

    expect(first).toEqual({ status: 'finished' });
    expect(second).toEqual({ status: 'duplicate' });
    expect(runs).toEqual(['ann@1']);
    expect(rows.get('k')!.status).toBe('finished');
  });

  it('defers a failing job with backoff and aborts it on the fifth try', async () => {
    const { ledger, rows } = memoryLedger();
    const { runs, bodies } = counted();
    const outcomes = [];
    for (let receive = 1; receive <= 5; receive++) {
      outcomes.push(
        await runDeliveredJob(
          deps(ledger, bodies),
          { idempotencyKey: 'p', job: job('poison') },
          receive,
        ),
      );
    }

    expect(outcomes.slice(0, 4).map((o) => o.status)).toEqual([
      'deferred',
      'deferred',
      'deferred',
      'deferred',
    ]);
    expect(outcomes[0]).toMatchObject({ retryAt: 1_000_000 + 10_000, error: 'always fails' });
    expect(outcomes[3]).toMatchObject({ retryAt: 1_000_000 + 80_000 });
    expect(outcomes[4]).toEqual({ status: 'aborted', error: 'always fails' });
    expect(runs).toHaveLength(5);
    expect(rows.get('p')!.status).toBe('aborted');
  });

  it('aborts a stored payload that is not a job, without retrying', async () => {
    const { ledger } = memoryLedger();
    const { bodies } = counted();
    await ledger.record(job('x'), 'bad');
    const claimed: ClaimedJob = {
      id: 1,
      kind: 'nope',
      idempotencyKey: 'bad',
      attempts: 1,
      payload: { kind: 'nope' },
    };
    await ledger.start('bad', job('x'), 1, 0);

    const outcome = await runClaimedJob(deps(ledger, bodies), claimed);

    expect(outcome).toMatchObject({ status: 'aborted' });
  });

  it('heartbeats only for itself; unconfigured kinds finish without effect', async () => {
    const beats: number[] = [];
    const bodies = jobBodies({
      self: { siteId: 1, uuid: 'u', name: 'n', address: 'a', version: 'v' },
      cluster: {
        beat: async (self: BrokerIdentity) => beats.push(self.siteId),
      } as unknown as ClusterStore,
      maintenance: {} as MaintenanceStore,
      clock: { now: () => 0 },
    });
    const context = { siteId: 1, idempotencyKey: 'k', attempt: 1, logger: silent };

    await bodies.heartbeat({ kind: 'heartbeat', siteId: 1 }, context);
    await bodies.heartbeat({ kind: 'heartbeat', siteId: 2 }, context);
    await bodies.lease_upkeep({ kind: 'lease_upkeep' }, context);

    expect(beats).toEqual([1]);
  });
});
