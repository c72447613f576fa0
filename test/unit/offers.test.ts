import { describe, expect, it } from 'vitest';
import {
  buildOffers,
  type DesktopRecord,
  resolveEntries,
} from '../../functions/core/desktops/offers.ts';
import { planForDesktop } from '../../functions/core/desktops/protocol-plans.ts';
import { siteConfigSchema } from '../../functions/core/site-config/schema.ts';
import type { SiteSnapshot } from '../../functions/core/site-config/snapshot.ts';

const config = siteConfigSchema.parse({
  protocolPlans: [
    { name: 'rdp', protocols: [{ protocol: 'rdp', port: 3389 }] },
    { name: 'office-vnc', protocols: [{ protocol: 'vnc', port: 5900 }] },
  ],
  pools: [{ name: 'eng' }, { name: 'eng-dr' }, { name: 'lab' }],
  locations: [
    {
      name: 'office',
      rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0.0/8' }],
      protocolPlan: 'office-vnc',
    },
  ],
  policies: [
    {
      name: 'p',
      entries: [
        { pool: 'eng', offer: 2, backupPool: 'eng-dr', protocolPlan: 'rdp' },
        { pool: 'lab', offer: 1, protocolPlan: 'rdp' },
      ],
    },
  ],
});
const ids = new Map([
  ['eng', 1],
  ['eng-dr', 2],
  ['lab', 3],
]);
const snapshot: SiteSnapshot = {
  config,
  poolIds: ids,
  poolNames: new Map([...ids].map(([n, i]) => [i, n])),
  gatewayIds: new Map(),
  loadedAt: 0,
};
const entries = resolveEntries(snapshot, config.policies[0]!);

let next = 1;
const desktop = (poolId: number, over: Partial<DesktopRecord> = {}): DesktopRecord => ({
  id: next++,
  name: `d${next}`,
  poolId,
  address: `10.0.${poolId}.${next}`,
  ports: {},
  assignedUser: null,
  heldBy: null,
  sessionState: 'none',
  ...over,
});
const offers = (
  desktops: DesktopRecord[],
  down: Set<string> = new Set(),
  locations: string[] = [],
) =>
  buildOffers({
    config,
    user: 'alice',
    locations,
    entries,
    desktops,
    probe: async (address) => !down.has(address),
  });

describe('offers', () => {
  it('offers hard-assigned first, then held, then free desktops up to each entry count', async () => {
    const mine = desktop(1, { assignedUser: 'Alice' });
    const held = desktop(3, { heldBy: 'alice' });
    const free = [desktop(1), desktop(1), desktop(3)];

    const list = await offers([free[0]!, held, mine, free[1]!, free[2]!]);

    expect(list.map((o) => [o.desktopId, o.status, o.pool])).toEqual([
      [mine.id, 'assigned', 'eng'],
      [held.id, 'held', 'lab'],
      [free[0]!.id, 'available', 'eng'],
    ]);
  });

  it('offers no more free desktops than an entry without a backup pool asks for', async () => {
    const lab = [desktop(3), desktop(3), desktop(3)];
    const list = await offers(lab);
    expect(list.map((o) => o.desktopId)).toEqual([lab[0]!.id]);
  });

  it('offers from the backup pool when the primary has nothing, under the primary pool name', async () => {
    const backup = [desktop(2), desktop(2), desktop(2)];

    const list = await offers(backup);

    expect(list.map((o) => o.desktopId)).toEqual([backup[0]!.id, backup[1]!.id]);
    expect(list.every((o) => o.pool === 'eng' && o.backup === false)).toBe(true);
  });

  it('skips unreachable primary desktops for reachable backup ones', async () => {
    const primary = [desktop(1), desktop(1)];
    const backup = [desktop(2), desktop(2)];

    const list = await offers([...primary, ...backup], new Set([primary[1]!.address]));

    expect(list.map((o) => o.desktopId)).toEqual([primary[0]!.id, backup[0]!.id]);
  });

  it('replaces an unreachable hard-assigned desktop with a backup one', async () => {
    const mine = desktop(1, { assignedUser: 'alice' });
    const backup = desktop(2);

    const list = await offers([mine, backup], new Set([mine.address]));

    expect(list.map((o) => o.desktopId)).toEqual([backup.id]);
  });

  it('offers available primary desktops beside a backup desktop the user holds', async () => {
    const heldBackup = desktop(2, { heldBy: 'alice' });
    const primary = [desktop(1), desktop(1), desktop(1)];
    const backup = desktop(2);

    const list = await offers([heldBackup, ...primary, backup]);

    // The entry offers 2: both primary desktops, and the held backup one stays offered too.
    expect(list.map((o) => [o.desktopId, o.status, o.pool])).toEqual([
      [heldBackup.id, 'held', 'eng'],
      [primary[0]!.id, 'available', 'eng'],
      [primary[1]!.id, 'available', 'eng'],
    ]);
  });

  it('counts held backup desktops when the backup pool fills in for an exhausted primary', async () => {
    const heldBackup = desktop(2, { heldBy: 'alice' });
    const primary = desktop(1);
    const backups = [desktop(2), desktop(2)];

    const down = await offers([heldBackup, primary, ...backups], new Set([primary.address]));
    const exhausted = await offers([heldBackup, ...backups]);

    expect(down.map((o) => o.desktopId)).toEqual([heldBackup.id, backups[0]!.id]);
    expect(exhausted.map((o) => o.desktopId)).toEqual([heldBackup.id, backups[0]!.id]);
  });

  it('does not probe pools without a backup (nothing to fail over to)', async () => {
    const lab = desktop(3);
    const list = await offers([lab], new Set([lab.address]));
    expect(list.map((o) => o.desktopId)).toEqual([lab.id]);
  });

  it('offers a desktop on its own port, and probes it there', async () => {
    const probed: number[] = [];
    const own = desktop(1, { ports: { rdp: 3390 } });
    const list = await buildOffers({
      config,
      user: 'alice',
      locations: [],
      entries,
      desktops: [own],
      probe: async (_address, port) => {
        probed.push(port);
        return true;
      },
    });
    expect(list[0]!.protocols).toEqual([{ protocol: 'rdp', port: 3390, via: 'direct' }]);
    expect(probed).toEqual([3390]);
  });

  it('keeps the plan’s port for protocols the desktop names no port for', () => {
    const plan = {
      name: 'two',
      protocols: [
        { protocol: 'rdp' as const, port: 3389 },
        { protocol: 'vnc' as const, port: 5900, gateway: 'gw' },
      ],
    };
    expect(planForDesktop(plan, { vnc: 5902 }).protocols).toEqual([
      { protocol: 'rdp', port: 3389 },
      { protocol: 'vnc', port: 5902, gateway: 'gw' },
    ]);
    expect(planForDesktop(plan, {})).toBe(plan);
  });

  it('lists the protocols of the location override', async () => {
    const list = await offers([desktop(3)], new Set(), ['office']);
    expect(list[0]!.protocols).toEqual([{ protocol: 'vnc', port: 5900, via: 'direct' }]);
  });
});
