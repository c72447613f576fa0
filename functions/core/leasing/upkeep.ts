/**
 * Leasing upkeep, outside the request path: mirroring what leased mode needs into the state
 * table, rebuilding leases from the site database (Citrix's Update-BrokerLocalLeaseCache),
 * extending the leases of running sessions, and replaying the outbox when the database is back.
 */

import type { Clock } from '../clock.ts';
import { resolvePlan } from '../desktops/protocol-plans.ts';
import type { Metrics } from '../metrics/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';
import { DAY_MS, type LeasedSite, leasedSiteOf, leaseForLaunch } from './leases.ts';
import type {
  LeasedModeMirror,
  LeaseStore,
  MirroredAccount,
  MirroredAgentKey,
  Outbox,
  OutboxReplayer,
} from './ports.ts';

/** What the site database says about leasable desktops and mirrored secrets. */
export interface LeasingSource {
  assignedDesktops(options?: { running?: boolean }): Promise<
    {
      id: number;
      name: string;
      address: string;
      pool: string;
      assignedUser: string;
      heldAt: Date | null;
    }[]
  >;
  accounts(): Promise<MirroredAccount[]>;
  agentKeys(): Promise<MirroredAgentKey[]>;
  gatewayIds(): Promise<Record<string, number>>;
}

export interface UpkeepDeps {
  readonly snapshot: SiteSnapshotSource;
  readonly source: LeasingSource;
  readonly leases: LeaseStore;
  readonly mirror: LeasedModeMirror;
  readonly outbox: Outbox;
  readonly replayer: OutboxReplayer;
  readonly clock: Clock;
  /** Outbox depth and replayed items. */
  readonly metrics: Metrics;
}

/**
 * Writes what leased mode needs into the state table: the leased-site copy, every local
 * account's verifier, every agent key; removes the ones named in `removed`.
 */
export async function syncMirror(
  deps: Pick<UpkeepDeps, 'snapshot' | 'source' | 'mirror'>,
  removed: { accounts?: { name: string; authServer: string | null }[]; agentKeys?: string[] } = {},
): Promise<{ accounts: number; agentKeys: number }> {
  const { config } = await deps.snapshot.get();
  const [accounts, agentKeys, gatewayIds] = await Promise.all([
    deps.source.accounts(),
    deps.source.agentKeys(),
    deps.source.gatewayIds(),
  ]);
  const site: LeasedSite = leasedSiteOf(config);
  await deps.mirror.saveSite({ ...site, gatewayIds });
  await deps.mirror.putAccounts(accounts);
  await deps.mirror.putAgentKeys(agentKeys);
  if (removed.accounts?.length) await deps.mirror.removeAccounts(removed.accounts);
  if (removed.agentKeys?.length) await deps.mirror.removeAgentKeys(removed.agentKeys);
  return { accounts: accounts.length, agentKeys: agentKeys.length };
}

/** The protocols a desktop of `pool` is launched with: the first policy entry offering the pool. */
function launchFor(config: SiteConfig, pool: string) {
  const policy = config.policies.find((p) =>
    p.entries.some((e) => e.pool === pool || e.backupPool === pool),
  );
  const entry =
    policy?.entries.find((e) => e.pool === pool) ??
    policy?.entries.find((e) => e.backupPool === pool);
  const plan = resolvePlan(config, entry, []);
  return { protocol: plan.protocols[0]!.protocol, protocols: [...plan.protocols] };
}

/**
 * Re-creates a lease for every hard-assigned desktop from the site database (existing leases
 * keep their creation time), and re-syncs the mirror.
 */
export async function rebuildLeases(
  deps: UpkeepDeps,
): Promise<{ leases: number; accounts: number; agentKeys: number }> {
  const { config } = await deps.snapshot.get();
  const mirrored = await syncMirror(deps);
  if (!config.settings.leasing.enabled) return { leases: 0, ...mirrored };
  const now = deps.clock.now();
  const desktops = await deps.source.assignedDesktops();
  for (const d of desktops) {
    const local = byName(config.users, d.assignedUser);
    await deps.leases.record(
      leaseForLaunch(
        {
          user: d.assignedUser,
          authServer: local?.authServer ?? '(directory)',
          desktopId: d.id,
          desktopName: d.name,
          address: d.address,
          pool: d.pool,
          launch: launchFor(config, d.pool),
        },
        now,
        config.settings.leasing.days,
      ),
    );
  }
  return { leases: desktops.length, ...mirrored };
}

/**
 * Writes the outbox back to the site database, oldest first, each item once. Reports the
 * depth when it starts and ends, and every item written back.
 */
export async function replayOutbox(
  deps: Pick<UpkeepDeps, 'outbox' | 'replayer' | 'metrics'>,
  batch = 100,
): Promise<{ applied: number; duplicates: number }> {
  let applied = 0;
  let duplicates = 0;
  const { metrics } = deps;
  metrics.gauge('outboxDepth', await deps.outbox.depth(), {});
  for (;;) {
    const items = await deps.outbox.pending(batch);
    if (items.length === 0) {
      metrics.gauge('outboxDepth', 0, {});
      return { applied, duplicates };
    }
    const done: string[] = [];
    try {
      for (const { id, item } of items) {
        const result = await deps.replayer.apply(id, item);
        if (result === 'applied') applied++;
        else duplicates++;
        metrics.count('outboxReplayed', { result });
        done.push(id);
      }
    } finally {
      await deps.outbox.remove(done);
    }
  }
}

/**
 * The `lease_upkeep` job: replays the outbox, then extends the leases of hard-assigned
 * desktops whose session still runs, so long sessions never lose their lease.
 */
export async function leaseUpkeep(
  deps: UpkeepDeps,
): Promise<{ replayed: number; extended: number }> {
  const { applied } = await replayOutbox(deps);
  const { config } = await deps.snapshot.get();
  let extended = 0;
  if (config.settings.leasing.enabled) {
    const expiresAt = deps.clock.now() + config.settings.leasing.days * DAY_MS;
    for (const d of await deps.source.assignedDesktops({ running: true })) {
      if (await deps.leases.extend(d.assignedUser, d.id, expiresAt)) extended++;
    }
  }
  return { replayed: applied, extended };
}
