/**
 * Connection leasing (Citrix "Connection leasing"): every launch of a hard-assigned desktop
 * leaves a lease (user → desktop and how to launch it) in the state table, written at launch
 * time, so users can still reach the desktops they used recently while the site database is
 * down. Leases live `settings.leasing.days` (14 by default) and are extended while a session
 * runs. Pooled desktops are never leased.
 */
import type { Offer } from '../desktops/offers.ts';
import { offeredProtocols, type ProtocolEntry } from '../desktops/protocol-plans.ts';
import type { GatewayClusterConfig, GatewayConfig, SiteConfig } from '../site-config/schema.ts';
import type { LeaseFilter } from './ports.ts';

/** How to launch a leased desktop again: the resolved protocol and the gateway choice. */
export interface LeasedLaunch {
  /** The protocol of the last launch. */
  readonly protocol: string;
  /** Every protocol of the plan as resolved at launch, with its port and gateway. */
  readonly protocols: readonly ProtocolEntry[];
}

export interface Lease {
  readonly user: string;
  readonly authServer: string;
  readonly desktopId: number;
  readonly desktopName: string;
  readonly address: string;
  readonly pool: string;
  readonly launch: LeasedLaunch;
  readonly createdAt: number;
  readonly lastLaunchAt: number;
  readonly expiresAt: number;
}

/** What leased mode needs of the site configuration, kept in the state table. */
export interface LeasedSite {
  readonly authServers: SiteConfig['authServers'];
  readonly gateways: readonly GatewayConfig[];
  readonly gatewayClusters: readonly GatewayClusterConfig[];
  readonly leasing: SiteConfig['settings']['leasing'];
  readonly clientHeaders: readonly string[];
}

export function leasedSiteOf(config: SiteConfig): LeasedSite {
  return {
    authServers: config.authServers,
    gateways: config.gateways,
    gatewayClusters: config.gatewayClusters,
    leasing: config.settings.leasing,
    clientHeaders: config.settings.clientHeaders,
  };
}

/** Only hard-assigned desktops are leased, and only to the user they are assigned to. */
export function isLeasable(desktop: { assignedUser: string | null }, user: string): boolean {
  return desktop.assignedUser !== null && desktop.assignedUser.toLowerCase() === user.toLowerCase();
}

export const DAY_MS = 86_400_000;

/** A lease for a launch now, keeping the creation time of the lease it renews. */
export function leaseForLaunch(
  input: Omit<Lease, 'createdAt' | 'lastLaunchAt' | 'expiresAt'>,
  now: number,
  days: number,
  previous?: Pick<Lease, 'createdAt'>,
): Lease {
  return {
    ...input,
    createdAt: previous?.createdAt ?? now,
    lastLaunchAt: now,
    expiresAt: now + days * DAY_MS,
  };
}

export const isLive = (lease: Pick<Lease, 'expiresAt'>, now: number) => lease.expiresAt > now;

/** Whether a lease is one an administrator's filter means (user by name, case-insensitive). */
export function leaseMatches(lease: Lease, filter: LeaseFilter, now: number): boolean {
  if (filter.user !== undefined && lease.user.toLowerCase() !== filter.user.toLowerCase())
    return false;
  if (filter.desktopId !== undefined && lease.desktopId !== filter.desktopId) return false;
  const state = filter.state ?? 'live';
  return state === 'all' || (state === 'live') === isLive(lease, now);
}

/** The offer list of leased mode: the user's unexpired leases. */
export function leasedOffers(leases: readonly Lease[], now: number): Offer[] {
  return leases
    .filter((l) => isLive(l, now))
    .sort((a, b) => b.lastLaunchAt - a.lastLaunchAt)
    .map((l) => ({
      desktopId: l.desktopId,
      name: l.desktopName,
      pool: l.pool,
      status: 'assigned' as const,
      backup: false as const,
      protocols: offeredProtocols({ name: '(leased)', protocols: [...l.launch.protocols] }),
    }));
}
