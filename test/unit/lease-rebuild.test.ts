/**
 * The lease rebuild (Citrix's Update-BrokerLocalLeaseCache) over in-memory ports: leases only
 * for hard-assigned desktops launched within the lease period, lasting from that launch;
 * never for a revoked user; never shortening a lease; stale leases removed.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, leaseForLaunch } from '../../functions/core/leasing/leases.ts';
import {
  type AssignedDesktop,
  type LeasingSource,
  rebuildLeases,
  type UpkeepDeps,
} from '../../functions/core/leasing/upkeep.ts';
import { NO_METRICS } from '../../functions/core/metrics/ports.ts';
import { frozenClock } from '../helpers/clock.ts';
import { MemoryLeaseStore, MemoryMirror, MemoryOutbox } from '../helpers/memory-leasing.ts';
import { memorySite } from '../helpers/memory-site.ts';

const T0 = Date.UTC(2026, 2, 1);
const desk = (id: number, user: string): AssignedDesktop => ({
  id,
  name: `${user}-${id}`,
  address: `10.0.0.${id}`,
  ports: {},
  pool: 'assigned',
  assignedUser: user,
});

function deps(launches: [AssignedDesktop, number][], assigned: AssignedDesktop[], enabled = true) {
  const clock = frozenClock(T0);
  const site = memorySite(
    {
      protocolPlans: [{ name: 'vnc', protocols: [{ protocol: 'vnc', port: 5901 }] }],
      pools: [{ name: 'assigned' }],
      policies: [{ name: 'p', entries: [{ pool: 'assigned', protocolPlan: 'vnc' }] }],
      settings: { leasing: { enabled, days: 14 } },
    },
    clock,
  );
  const asked: number[] = [];
  const source: LeasingSource = {
    assignedDesktops: async () => assigned,
    launchedDesktops: async (since) => {
      asked.push(since);
      return launches
        .filter(([, at]) => at > since)
        .map(([d, lastLaunchAt]) => ({ ...d, lastLaunchAt }));
    },
    accounts: async () => [],
    agentKeys: async () => [],
    gatewayIds: async () => ({}),
  };
  const leases = new MemoryLeaseStore();
  const upkeep: UpkeepDeps = {
    snapshot: site.snapshot,
    source,
    leases,
    mirror: new MemoryMirror(),
    outbox: new MemoryOutbox(),
    replayer: { apply: async () => 'applied', purgeMarkers: async () => 0 },
    clock,
    metrics: NO_METRICS,
  };
  return { upkeep, leases, asked };
}

describe('rebuildLeases', () => {
  it('leases the launched desktops from their last launch, with the plan of their pool', async () => {
    const ann = desk(1, 'ann');
    const { upkeep, leases, asked } = deps([[ann, T0 - 3 * DAY_MS]], [ann, desk(2, 'ann')]);

    const result = await rebuildLeases(upkeep);

    expect(asked).toEqual([T0 - 14 * DAY_MS]);
    expect(result).toMatchObject({ leases: 1, written: 1, removed: 0 });
    expect([...leases.leases.values()]).toEqual([
      expect.objectContaining({
        user: 'ann',
        desktopId: 1,
        lastLaunchAt: T0 - 3 * DAY_MS,
        expiresAt: T0 + 11 * DAY_MS,
        launch: { protocol: 'vnc', protocols: [{ protocol: 'vnc', port: 5901 }] },
      }),
    ]);
  });

  it('never shortens a lease, skips revoked users, and removes stale leases', async () => {
    const [ann, bob] = [desk(1, 'ann'), desk(2, 'bob')];
    const { upkeep, leases } = deps(
      [
        [ann, T0 - 5 * DAY_MS],
        [bob, T0 - 1 * DAY_MS],
      ],
      [ann, bob],
    );
    const recent = leaseForLaunch(
      {
        ...ann,
        user: 'ann',
        authServer: 'local',
        desktopId: 1,
        desktopName: 'ann-1',
        launch: { protocol: 'vnc', protocols: [] },
      },
      T0,
      14,
    );
    await leases.record(recent);
    await leases.record({ ...recent, user: 'old', desktopId: 9 });
    await leases.revoke('bob');

    const result = await rebuildLeases(upkeep);

    expect(result).toMatchObject({ leases: 1, written: 0, removed: 1 });
    expect([...leases.leases.values()]).toEqual([recent]);
  });

  it('writes no lease while leasing is turned off', async () => {
    const ann = desk(1, 'ann');
    const { upkeep, leases } = deps([[ann, T0 - DAY_MS]], [ann], false);

    expect(await rebuildLeases(upkeep)).toMatchObject({ leases: 0, written: 0 });
    expect(leases.leases.size).toBe(0);
  });
});
