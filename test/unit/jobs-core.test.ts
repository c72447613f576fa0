/**
 * The job system's pure rules: payloads, cluster status, purge cutoffs, period keys.
 */
import { describe, expect, it } from 'vitest';
import {
  BrokerRunningError,
  brokerStatus,
  checkRegistration,
  listCluster,
  removeBroker,
  SiteIdInUseError,
} from '../../functions/core/jobs/cluster.ts';
import {
  InvalidJobError,
  JOB_KINDS,
  parseJobMessage,
  parseJobPayload,
} from '../../functions/core/jobs/payload.ts';
import type {
  BrokerIdentity,
  BrokerRecord,
  ClusterStore,
} from '../../functions/core/jobs/ports.ts';
import { purgeCutoffs } from '../../functions/core/jobs/purge.ts';
import { heartbeatJob, periodKey } from '../../functions/core/jobs/schedule.ts';

const DAY = 86_400_000;

describe('job payloads', () => {
  it('has the seven kinds and validates each', () => {
    expect(JOB_KINDS).toEqual([
      'heartbeat',
      'purge_records',
      'refresh_pool',
      'check_gateway',
      'agent_timeout',
      'delayed_release',
      'lease_upkeep',
    ]);
    expect(parseJobPayload({ kind: 'heartbeat', siteId: 2 })).toEqual({
      kind: 'heartbeat',
      siteId: 2,
    });
    expect(() => parseJobPayload({ kind: 'heartbeat' })).toThrow(/siteId/);
    expect(() => parseJobPayload({ kind: 'mine_bitcoin' })).toThrow(InvalidJobError);
    expect(() => parseJobPayload({ kind: 'delayed_release', desktopId: 0, user: 'a' })).toThrow(
      /desktopId/,
    );
  });

  it('reads a message with its key, or a bare payload keyed by the message ID', () => {
    const message = parseJobMessage(
      JSON.stringify({ idempotencyKey: 'k1', job: { kind: 'purge_records' } }),
      'sqs:m1',
    );
    const bare = parseJobMessage(JSON.stringify({ kind: 'refresh_pool', pool: 'p' }), 'sqs:m2');

    expect(message).toEqual({ idempotencyKey: 'k1', job: { kind: 'purge_records' } });
    expect(bare).toEqual({ idempotencyKey: 'sqs:m2', job: { kind: 'refresh_pool', pool: 'p' } });
    expect(() => parseJobMessage('{not json', 'x')).toThrow(/not JSON/);
    expect(() => parseJobMessage('{"idempotencyKey":"k"}', 'x')).toThrow(InvalidJobError);
  });
});

describe('cluster rules', () => {
  const row = (status: 'running' | 'stopped', heartbeatAt: number): BrokerRecord => ({
    siteId: 2,
    uuid: 'u-2',
    name: 'b2',
    address: '10.0.0.2',
    version: '0.1.0',
    bootedAt: 0,
    heartbeatAt,
    status,
  });

  it('is Running within three heartbeats, Unavailable after, Stopped when stopped', () => {
    const now = 100_000;
    expect(brokerStatus(row('running', now - 60_000), now, 20)).toBe('Running');
    expect(brokerStatus(row('running', now - 60_001), now, 20)).toBe('Unavailable');
    expect(brokerStatus(row('running', now - 16_000), now, 5)).toBe('Unavailable');
    expect(brokerStatus(row('stopped', now), now, 20)).toBe('Stopped');
  });

  it('refuses a second live broker with the same site ID, takes over a dead one', () => {
    const self: BrokerIdentity = { ...row('running', 0), uuid: 'u-other' };
    const check = checkRegistration(self);
    const now = 1_000_000;

    expect(() => check(row('running', now - 5000), now, 20)).toThrow(SiteIdInUseError);
    expect(() => check(row('running', now - 5000), now, 20)).toThrow(
      /site ID 2 is in use by the running broker "b2"/,
    );
    expect(() => check(row('running', now - 61_000), now, 20)).not.toThrow();
    expect(() => check(row('stopped', now), now, 20)).not.toThrow();
    expect(() => checkRegistration(row('running', 0))(row('running', now), now, 20)).not.toThrow();
  });

  it('lists with statuses and removes only a Stopped or Unavailable broker', async () => {
    const now = 1_000_000;
    const rows = [row('running', now - 1000), { ...row('running', now - 90_000), siteId: 3 }];
    const store = {
      snapshot: async () => ({ now, heartbeatSeconds: 20, brokers: rows }),
      remove: async (siteId: number, check: (r: BrokerRecord, n: number, h: number) => void) => {
        const r = rows.find((x) => x.siteId === siteId);
        if (!r) return undefined;
        check(r, now, 20);
        return { reassignedJobs: 4, removedJobs: 1 };
      },
    } as unknown as ClusterStore;

    const view = await listCluster(store);

    expect(view.members.map((m) => [m.siteId, m.state])).toEqual([
      [2, 'Running'],
      [3, 'Unavailable'],
    ]);
    await expect(removeBroker(store, 2)).rejects.toThrow(BrokerRunningError);
    await expect(removeBroker(store, 3)).resolves.toEqual({ reassignedJobs: 4, removedJobs: 1 });
    await expect(removeBroker(store, 9)).rejects.toThrow(/no broker with site ID 9/);
  });
});

describe('purge cutoffs ("Removing Deleted Database Records")', () => {
  it('follows the guide for a 30-day log retention', () => {
    const now = 1_000 * DAY;
    const c = purgeCutoffs(now, 30);
    expect((now - c.log) / DAY).toBe(30);
    expect((now - c.deleted) / DAY).toBe(120);
    expect((now - c.workQueue) / DAY).toBe(7);
    expect((now - c.gatewayForward) / DAY).toBe(2);
    expect((now - c.desktopSession) / DAY).toBe(7);
    expect(() => purgeCutoffs(now, 0)).toThrow(RangeError);
  });
});

describe('period keys', () => {
  it('are the same for every broker within a period, and new in the next', () => {
    const t = 1_700_000_000_000;
    const start = Math.floor(t / 60_000) * 60_000;
    expect(periodKey('refresh_pool', 60, start)).toBe(
      periodKey('refresh_pool', 60, start + 59_999),
    );
    expect(periodKey('refresh_pool', 60, start)).not.toBe(
      periodKey('refresh_pool', 60, start + 60_000),
    );
    expect(heartbeatJob(3, 20, t)).toMatchObject({
      job: { kind: 'heartbeat', siteId: 3 },
      siteId: 3,
    });
    expect(heartbeatJob(3, 20, t).key).not.toBe(heartbeatJob(4, 20, t).key);
  });
});
