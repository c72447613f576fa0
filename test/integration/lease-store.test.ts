/**
 * The DynamoDB lease store against the DynamoDB stand-in (dynalite): a lease past its expiry
 * that the table still holds (DynamoDB's TTL deletes "within a few days") is never renewed;
 * a launch after expiry starts a new lease; listing by user, desktop and state, a page at a
 * time; removal by user, by desktop, one, or all; a rebuild never shortens a lease.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openInProcessStateTable } from '../../functions/adapters/state/in-process-dynamo.ts';
import { DynamoLeaseStore } from '../../functions/adapters/state/lease-store.ts';
import {
  createStateTable,
  ensureStateTable,
  type StateTable,
} from '../../functions/adapters/state/state-table.ts';
import { type Lease, leaseForLaunch } from '../../functions/core/leasing/leases.ts';
import type { LeaseFilter } from '../../functions/core/leasing/ports.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

const lease = (user: string, desktopId: number, at = T0, days = 14): Lease =>
  leaseForLaunch(
    {
      user,
      authServer: 'local',
      desktopId,
      desktopName: `d${desktopId}`,
      address: '10.0.0.1',
      pool: 'p',
      launch: { protocol: 'rdp', protocols: [{ protocol: 'rdp', port: 3389 }] },
    },
    at,
    days,
  );

let dynamo: EmbeddedDynamo;
let table: StateTable;
let store: DynamoLeaseStore;
let n = 0;

let client: 'sdk' | 'in-process' = 'sdk';

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});
afterAll(async () => {
  await table?.close();
  await dynamo?.close();
});
beforeEach(async () => {
  await table?.close();
  table =
    client === 'sdk'
      ? createStateTable({
          tableName: `leases-${++n}`,
          region: 'us-east-1',
          endpoint: dynamo.endpoint,
        })
      : openInProcessStateTable({ tableName: `leases-${++n}` });
  await ensureStateTable(table);
  store = new DynamoLeaseStore(table);
});

/** Every page of a listing. */
async function listAll(filter: LeaseFilter, now: number, limit = 2) {
  const out: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list(filter, now, { limit, cursor });
    expect(page.leases.length).toBeLessThanOrEqual(limit);
    out.push(...page.leases.map((l) => `${l.user}#${l.desktopId}`));
    cursor = page.cursor;
    pages++;
  } while (cursor);
  return { leases: out.sort(), pages };
}

// The same store on DynamoDB through the SDK (the stand-in over HTTP) and on the local
// runtime's in-process state table.
describe.each(['sdk', 'in-process'] as const)('DynamoLeaseStore (%s)', (kind) => {
  beforeAll(() => {
    client = kind;
  });

  it('extends a live lease, never an expired one the table still holds', async () => {
    await store.record(lease('ann', 1));

    const live = await store.extend('ann', 1, T0 + 20 * DAY, T0 + 2 * DAY);
    const expired = await store.extend('ann', 1, T0 + 40 * DAY, T0 + 21 * DAY);

    expect(live).toBe(true);
    expect(expired).toBe(false);
    expect((await store.forUser('ann', T0 + 21 * DAY)).leases).toEqual([]);
    expect((await store.list({ state: 'expired' }, T0 + 21 * DAY, { limit: 10 })).leases).toEqual([
      expect.objectContaining({ user: 'ann', desktopId: 1, expiresAt: T0 + 20 * DAY }),
    ]);
  });

  it('renews a live lease at a launch (keeping its creation), replaces an expired one', async () => {
    await store.record(lease('ann', 1));
    await store.record(lease('ann', 1, T0 + 5 * DAY));
    const renewed = (await store.forUser('ann', T0 + 5 * DAY)).leases[0]!;
    await store.record(lease('ann', 1, T0 + 30 * DAY));
    const fresh = (await store.forUser('ann', T0 + 30 * DAY)).leases[0]!;

    expect(renewed).toMatchObject({ createdAt: T0, expiresAt: T0 + 19 * DAY });
    expect(fresh).toMatchObject({ createdAt: T0 + 30 * DAY, expiresAt: T0 + 44 * DAY });
  });

  it('restores a lease only when it would last longer than the one there', async () => {
    await store.record(lease('ann', 1, T0 + 5 * DAY));

    const shorter = await store.restore(lease('ann', 1, T0));
    const longer = await store.restore(lease('ann', 1, T0 + 6 * DAY));
    const absent = await store.restore(lease('bob', 2, T0));

    expect([shorter, longer, absent]).toEqual([false, true, true]);
    expect((await store.forUser('ann', T0)).leases[0]!.expiresAt).toBe(T0 + 20 * DAY);
  });

  it('lists by user, by desktop and by state, a page at a time', async () => {
    for (const [user, desktop] of [
      ['ann', 1],
      ['ann', 2],
      ['bob', 2],
      ['cat', 3],
      ['dan', 2],
    ] as const)
      await store.record(lease(user, desktop));
    await store.record(lease('old', 2, T0 - 20 * DAY));
    await store.revoke('zed', T0); // a revocation marker is no lease

    expect(await listAll({}, T0)).toEqual({
      leases: ['ann#1', 'ann#2', 'bob#2', 'cat#3', 'dan#2'],
      pages: 3,
    });
    expect((await listAll({ user: 'ANN' }, T0, 1)).leases).toEqual(['ann#1', 'ann#2']);
    expect((await listAll({ desktopId: 2 }, T0)).leases).toEqual(['ann#2', 'bob#2', 'dan#2']);
    expect((await listAll({ desktopId: 2, state: 'expired' }, T0)).leases).toEqual(['old#2']);
    expect((await listAll({ state: 'all' }, T0, 100)).leases).toHaveLength(6);
    await expect(store.list({}, T0, { limit: 5, cursor: 'not-a-cursor' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
  });

  it('removes by desktop, by user, one lease, or every lease, expired ones included', async () => {
    for (const [user, desktop] of [
      ['ann', 1],
      ['ann', 2],
      ['bob', 2],
      ['cat', 3],
    ] as const)
      await store.record(lease(user, desktop));
    await store.record(lease('old', 2, T0 - 20 * DAY));

    expect(await store.removeWhere({ desktopId: 2 })).toBe(3);
    expect(await store.removeWhere({ user: 'ann', desktopId: 1 })).toBe(1);
    expect((await listAll({ state: 'all' }, T0)).leases).toEqual(['cat#3']);
    await store.record(lease('ann', 1));
    expect(await store.removeWhere({ user: 'Ann' })).toBe(1);
    expect(await store.removeWhere({})).toBe(1);
    expect((await listAll({ state: 'all' }, T0)).leases).toEqual([]);
  });
});
