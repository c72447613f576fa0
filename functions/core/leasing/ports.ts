/** Ports of connection leasing: leases, the leased-mode copy of the site, and the outbox. */
import type { AgentDesktop, AgentEventKind } from '../agents/ports.ts';
import type { LogEntry } from '../desktops/ports.ts';
import type { ForwardRecord } from '../gateways/ports.ts';
import type { LocalAccount } from '../login/ports.ts';
import type { Lease, LeasedSite } from './leases.ts';

/** Which leases an administrator means (Citrix's Get-BrokerLease / Remove-BrokerLease filters). */
export interface LeaseFilter {
  readonly user?: string;
  readonly desktopId?: number;
  /**
   * `live` (the default): unexpired; `expired`: past their expiry but not yet deleted by the
   * table's TTL (DynamoDB deletes "within a few days"); `all`: both.
   */
  readonly state?: 'live' | 'expired' | 'all';
}

/** One page of a lease listing; `cursor` continues it, absent on the last page. */
export interface LeasePage {
  readonly leases: Lease[];
  readonly cursor?: string;
}

/** Connection leases in the state table. Reads check expiry; writes are single-item. */
export interface LeaseStore {
  /**
   * Writes the lease of a launch at `lease.lastLaunchAt`: renews a live lease (keeping its
   * creation time); an expired one is replaced by a new lease, never revived.
   */
  record(lease: Lease): Promise<void>;
  /**
   * Writes a lease rebuilt from the site database unless a lease of the same user and desktop
   * already lasts as long (a rebuild never shortens a lease). Resolves whether it wrote.
   */
  restore(lease: Lease): Promise<boolean>;
  /**
   * Moves a live lease's expiry forward; resolves false when there is no such lease, or it
   * has expired at `now` (an expired lease the table has not deleted yet is never revived).
   */
  extend(user: string, desktopId: number, expiresAt: number, now: number): Promise<boolean>;
  /** The user's unexpired leases, and whether an administrator revoked them. */
  forUser(user: string, now: number): Promise<{ leases: Lease[]; revoked: boolean }>;
  /** One page of the leases matching `filter`, in the table's order. @throws on a bad cursor. */
  list(
    filter: LeaseFilter,
    now: number,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<LeasePage>;
  /** Removes one lease; resolves false when there was none. */
  remove(user: string, desktopId: number): Promise<boolean>;
  /**
   * Removes every lease (live or expired) of a user, of a desktop, of both (one lease), or,
   * with an empty filter, every lease of the site. Returns how many were removed. Revocations
   * stay as they are.
   */
  removeWhere(filter: Pick<LeaseFilter, 'user' | 'desktopId'>): Promise<number>;
  /** Removes all of a user's leases and keeps the user out of leased mode. Returns how many were removed. */
  revoke(user: string, now: number): Promise<number>;
  /** Lifts a revocation. */
  unrevoke(user: string): Promise<void>;
}

/** A local account as leased mode keeps it (what is needed to verify the password). */
export interface MirroredAccount extends LocalAccount {}

/** A desktop's agent key as leased mode keeps it. */
export interface MirroredAgentKey extends AgentDesktop {
  readonly keyHash: string;
}

/** What the state table keeps so leased mode works without the site database. */
export interface LeasedModeMirror {
  saveSite(site: LeasedSite & { gatewayIds: Readonly<Record<string, number>> }): Promise<void>;
  loadSite(): Promise<(LeasedSite & { gatewayIds: Readonly<Record<string, number>> }) | undefined>;
  putAccounts(accounts: readonly MirroredAccount[]): Promise<void>;
  removeAccounts(accounts: readonly { name: string; authServer: string | null }[]): Promise<void>;
  findAccount(name: string, authServer: string | null): Promise<MirroredAccount | undefined>;
  putAgentKeys(keys: readonly MirroredAgentKey[]): Promise<void>;
  removeAgentKeys(keyHashes: readonly string[]): Promise<void>;
  findAgentKey(keyHash: string): Promise<MirroredAgentKey | undefined>;
}

/** What happened in leased mode, to be written to the site database when it is back. */
export type OutboxItem =
  | { readonly kind: 'log'; readonly entry: LogEntry; readonly at: number }
  | {
      readonly kind: 'agent_event';
      readonly desktopId: number;
      readonly event: AgentEventKind;
      readonly user: string | null;
      readonly at: number;
    }
  | { readonly kind: 'forward'; readonly forward: ForwardRecord; readonly at: number }
  | {
      readonly kind: 'forwards_closed';
      readonly user: string;
      readonly desktopId?: number;
      readonly at: number;
    };

/** Leased-mode events kept in the state table, in order, until replayed. */
export interface Outbox {
  append(items: readonly OutboxItem[]): Promise<void>;
  /** The oldest items first. */
  pending(limit: number): Promise<{ id: string; item: OutboxItem }[]>;
  remove(ids: readonly string[]): Promise<void>;
  /** How many items wait. */
  depth(): Promise<number>;
}

/** Writes one outbox item to the site database exactly once (a marker row in the same transaction). */
export interface OutboxReplayer {
  apply(id: string, item: OutboxItem): Promise<'applied' | 'duplicate'>;
  /** Forgets the exactly-once markers older than `days` (7 by default). */
  purgeMarkers(now: number, days?: number): Promise<number>;
}
