/**
 * The offer list (the guide's policies, pools and "Setting up Desktop Backup Pools"):
 * hard-assigned desktops first, then desktops the user already holds, then free desktops
 * from each pool entry up to its `offer` count. When an entry has a backup pool and its
 * primary pool has no available or reachable desktop, the rest comes from the backup pool;
 * the user is not told (the offer names the entry's pool). A backup desktop the user holds
 * does not take a primary desktop's place: primary desktops that are available again are
 * offered beside it ("Primary pool desktops are offered to the user if they are available
 * when the user's offer list is refreshed, along with any currently assigned desktops from
 * the backup pool").
 */

import { servesBrowsers } from '../gateways/browser-path.ts';
import type { PolicyConfig, ProtocolPlanConfig, SiteConfig } from '../site-config/schema.ts';
import { poolId, type SiteSnapshot } from '../site-config/snapshot.ts';
import {
  type DesktopPorts,
  type OfferedProtocol,
  offeredProtocols,
  planForDesktop,
  resolvePlan,
} from './protocol-plans.ts';

/** A desktop as the offer and claim queries return it. */
export interface DesktopRecord {
  readonly id: number;
  readonly name: string;
  readonly poolId: number;
  readonly address: string;
  /** The desktop's own ports by protocol, over its plan's. */
  readonly ports: DesktopPorts;
  readonly assignedUser: string | null;
  readonly heldBy: string | null;
  readonly sessionState: 'none' | 'connected' | 'disconnected';
}

/** A policy entry with the pool ids the queries need. */
export interface ResolvedEntry {
  readonly index: number;
  readonly pool: string;
  readonly poolId: number;
  readonly offer: number;
  readonly backupPool?: string;
  readonly backupPoolId?: number;
  readonly protocolPlan?: string;
  readonly release: 'on_logout' | 'on_disconnect' | 'never';
  readonly releaseDelaySeconds: number;
}

export interface Offer {
  readonly desktopId: number;
  readonly name: string;
  readonly pool: string;
  readonly status: 'assigned' | 'held' | 'available';
  /** Always false for the user: backup desktops are offered without saying so. */
  readonly backup: false;
  readonly protocols: OfferedProtocol[];
}

/** Answers whether a desktop accepts TCP connections on a port (cached by the adapter). */
export type ReachabilityProbe = (address: string, port: number) => Promise<boolean>;

/** The policy's entries whose pools exist, with their ids. */
export function resolveEntries(snapshot: SiteSnapshot, policy: PolicyConfig): ResolvedEntry[] {
  return policy.entries.flatMap((e, index) => {
    const id = poolId(snapshot, e.pool);
    if (id === undefined) return [];
    const backupPoolId = e.backupPool === undefined ? undefined : poolId(snapshot, e.backupPool);
    return [{ ...e, index, poolId: id, backupPoolId }];
  });
}

/** Every pool id an offer may come from: primary and backup pools. */
export function offerPoolIds(entries: readonly ResolvedEntry[]): number[] {
  return [
    ...new Set(
      entries.flatMap((e) =>
        e.backupPoolId === undefined ? [e.poolId] : [e.poolId, e.backupPoolId],
      ),
    ),
  ];
}

/** How many free candidates to read per pool: spares for the unreachable ones. */
export function candidateLimit(entries: readonly ResolvedEntry[]): number {
  return Math.max(1, ...entries.map((e) => e.offer)) * 2 + 2;
}

/** The entry a desktop of `poolId` belongs to: as its primary pool first, else as backup. */
export function entryForPool(
  entries: readonly ResolvedEntry[],
  id: number,
): ResolvedEntry | undefined {
  return entries.find((e) => e.poolId === id) ?? entries.find((e) => e.backupPoolId === id);
}

const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();

/**
 * Builds the offer list from the desktops the query returned (the user's own and free
 * candidates per pool, in pool order).
 */
export async function buildOffers(input: {
  readonly config: SiteConfig;
  readonly user: string;
  readonly locations: readonly string[];
  readonly entries: readonly ResolvedEntry[];
  readonly desktops: readonly DesktopRecord[];
  readonly probe: ReachabilityProbe;
}): Promise<Offer[]> {
  const { config, user, entries } = input;
  const planOf = (entry: ResolvedEntry | undefined) => resolvePlan(config, entry, input.locations);
  // Probed on the port the desktop is reached on: its own, else the plan's.
  const reachable = (d: DesktopRecord, plan: ProtocolPlanConfig) =>
    input.probe(d.address, planForDesktop(plan, d.ports).protocols[0]!.port);
  const offers: Offer[] = [];
  const offered = new Set<number>();
  /** Per entry: desktops offered from its primary pool, and from its backup pool. */
  const usedPrimary = new Map<number, number>();
  const usedBackup = new Map<number, number>();
  const count = (m: Map<number, number>, entry: ResolvedEntry) => m.get(entry.index) ?? 0;
  const add = (d: DesktopRecord, entry: ResolvedEntry | undefined, status: Offer['status']) => {
    offered.add(d.id);
    if (entry) {
      const used = d.poolId === entry.poolId ? usedPrimary : usedBackup;
      used.set(entry.index, count(used, entry) + 1);
    }
    offers.push({
      desktopId: d.id,
      name: d.name,
      pool: entry?.pool ?? '',
      status,
      backup: false,
      protocols: offeredProtocols(planForDesktop(planOf(entry), d.ports), (g) =>
        servesBrowsers(config, g),
      ),
    });
  };

  const assigned = input.desktops.filter((d) => same(d.assignedUser, user));
  const held = input.desktops.filter((d) => !same(d.assignedUser, user) && same(d.heldBy, user));
  for (const d of assigned) {
    const entry = entryForPool(entries, d.poolId);
    // A hard-assigned desktop that cannot be reached gives way to the backup pool.
    if (
      entry?.backupPoolId !== undefined &&
      entry.poolId === d.poolId &&
      !(await reachable(d, planOf(entry)))
    )
      continue;
    add(d, entry, 'assigned');
  }
  for (const d of held) add(d, entryForPool(entries, d.poolId), 'held');

  const free = (pool: number | undefined) =>
    input.desktops.filter(
      (d) =>
        d.poolId === pool && d.heldBy === null && d.assignedUser === null && !offered.has(d.id),
    );
  for (const entry of entries) {
    // Held backup desktops do not count here: primary desktops are offered beside them.
    const need = entry.offer - count(usedPrimary, entry);
    if (need <= 0) continue;
    const plan = planOf(entry);
    let picks = free(entry.poolId).slice(0, need);
    if (entry.backupPoolId !== undefined) {
      const checked = await Promise.all(
        free(entry.poolId).map(async (d) => ((await reachable(d, plan)) ? d : undefined)),
      );
      picks = checked.filter((d): d is DesktopRecord => d !== undefined).slice(0, need);
      // The backup pool fills only what the primary cannot, counting the backups already held.
      const backupNeed = need - picks.length - count(usedBackup, entry);
      if (backupNeed > 0) {
        const backups = await Promise.all(
          free(entry.backupPoolId).map(async (d) => ((await reachable(d, plan)) ? d : undefined)),
        );
        picks.push(
          ...backups.filter((d): d is DesktopRecord => d !== undefined).slice(0, backupNeed),
        );
      }
    }
    for (const d of picks) add(d, entry, 'available');
  }
  return offers;
}

/**
 * Why an offer list is empty, in words for the person who sees it (the guide's "No resources
 * available" needs a reason to act on).
 */
export function emptyOffersReason(session: {
  readonly policy: string | null;
  readonly isAdmin: boolean;
  readonly mode: 'normal' | 'leased';
}): string {
  if (session.mode === 'leased')
    return 'the site database is not reachable, and only desktops you used recently can be offered until it is back';
  if (session.policy === null)
    return session.isAdmin
      ? 'you are signed in as an administrator without a desktop policy; the console is at /admin'
      : 'no desktop policy is assigned to you; ask your administrator';
  return 'every desktop your policy offers is in use or cannot be reached right now; try again in a few minutes';
}
