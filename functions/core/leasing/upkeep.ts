/**
 * Leasing upkeep, outside the request path: mirroring what leased mode needs into the state
 * table, rebuilding leases from the site database (Citrix's Update-BrokerLocalLeaseCache),
 * extending the leases of running sessions, and replaying the outbox when the database is back.
 */

import type { Clock } from '../clock.ts';
import { type DesktopPorts, planForDesktop, resolvePlan } from '../desktops/protocol-plans.ts';
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

/** A hard-assigned desktop as the site database holds it. */
export interface AssignedDesktop {
  readonly id: number;
  readonly name: string;
  readonly address: string;
  /** Its own ports by protocol, over its plan's. */
  readonly ports: DesktopPorts;
  readonly pool: string;
  readonly assignedUser: string;
}

/** What the site database says about leasable desktops and mirrored secrets. */
export interface LeasingSource {
  /**
   * Live hard-assigned desktops; with `running`, only those where the assigned user's own
   * session is open (connected or disconnected).
   */
  assignedDesktops(options?: { running?: boolean }): Promise<AssignedDesktop[]>;
  /**
   * Hard-assigned desktops their assigned user launched (connected to) since `since`, epoch
   * ms, with the time of the last launch: what Citrix's lease cache holds.
   */
  launchedDesktops(since: number): Promise<(AssignedDesktop & { lastLaunchAt: number })[]>;
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

/**
 * The protocols a desktop of `pool` is launched with: the first policy entry offering the
 * pool, on the desktop's own ports.
 */
function launchFor(config: SiteConfig, pool: string, ports: DesktopPorts) {
  const policy = config.policies.find((p) =>
    p.entries.some((e) => e.pool === pool || e.backupPool === pool),
  );
  const entry =
    policy?.entries.find((e) => e.pool === pool) ??
    policy?.entries.find((e) => e.backupPool === pool);
  const plan = planForDesktop(resolvePlan(config, entry, []), ports);
  return { protocol: plan.protocols[0]!.protocol, protocols: [...plan.protocols] };
}

/** What a rebuild did. */
export interface RebuildResult {
  /** Hard-assigned desktops launched within the lease period: each has its lease now. */
  readonly leases: number;
  /** Of those, leases created or lengthened (an existing longer lease is kept as it is). */
  readonly written: number;
  /** Leases removed because their desktop is no longer hard-assigned to their user. */
  readonly removed: number;
  readonly accounts: number;
  readonly agentKeys: number;
}

/**
 * Rebuilds the leases from the site database (Citrix's Update-BrokerLocalLeaseCache): a lease
 * for each hard-assigned desktop its user launched within the lease period (the `connect` rows
 * of the log, leased-mode launches included once replayed), lasting from that launch; never
 * one for a desktop that was not launched, nor for a revoked user; never shortening a lease.
 * Leases of desktops no longer hard-assigned to their user are removed. Re-syncs the mirror.
 * A site whose log retention is shorter than the lease period rebuilds only the launches its
 * log still holds (existing leases are kept).
 */
export async function rebuildLeases(deps: UpkeepDeps): Promise<RebuildResult> {
  const { config } = await deps.snapshot.get();
  const mirrored = await syncMirror(deps);
  const now = deps.clock.now();
  const assigned = new Set(
    (await deps.source.assignedDesktops()).map((d) => `${d.assignedUser.toLowerCase()}#${d.id}`),
  );
  let removed = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.leases.list({ state: 'all' }, now, { limit: 1000, cursor });
    for (const l of page.leases) {
      if (assigned.has(`${l.user.toLowerCase()}#${l.desktopId}`)) continue;
      if (await deps.leases.remove(l.user, l.desktopId)) removed++;
    }
    cursor = page.cursor;
  } while (cursor);
  if (!config.settings.leasing.enabled) return { leases: 0, written: 0, removed, ...mirrored };

  const days = config.settings.leasing.days;
  const launched = await deps.source.launchedDesktops(now - days * DAY_MS);
  const revoked = new Map<string, boolean>();
  let leases = 0;
  let written = 0;
  for (const d of launched) {
    const user = d.assignedUser.toLowerCase();
    if (!revoked.has(user))
      revoked.set(user, (await deps.leases.forUser(d.assignedUser, now)).revoked);
    if (revoked.get(user)) continue;
    const local = byName(config.users, d.assignedUser);
    const lease = leaseForLaunch(
      {
        user: d.assignedUser,
        authServer: local?.authServer ?? '(directory)',
        desktopId: d.id,
        desktopName: d.name,
        address: d.address,
        pool: d.pool,
        launch: launchFor(config, d.pool, d.ports),
      },
      d.lastLaunchAt,
      days,
    );
    leases++;
    if (await deps.leases.restore(lease)) written++;
  }
  return { leases, written, removed, ...mirrored };
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
    const now = deps.clock.now();
    const expiresAt = now + config.settings.leasing.days * DAY_MS;
    for (const d of await deps.source.assignedDesktops({ running: true })) {
      if (await deps.leases.extend(d.assignedUser, d.id, expiresAt, now)) extended++;
    }
  }
  return { replayed: applied, extended };
}
