/**
 * In-memory leasing ports for unit tests: leases (with DynamoLeaseStore's rules: expiry
 * checked on read and in every conditional write), the leased-mode outbox and mirror.
 */
import { isLive, type Lease, leaseMatches } from '../../functions/core/leasing/leases.ts';
import type {
  LeasedModeMirror,
  LeaseFilter,
  LeasePage,
  LeaseStore,
  MirroredAccount,
  MirroredAgentKey,
  Outbox,
  OutboxItem,
} from '../../functions/core/leasing/ports.ts';

const key = (user: string, desktopId: number) => `${user.toLowerCase()}#${desktopId}`;

/** Leases as DynamoLeaseStore keeps them: expiry checked on read and in every condition. */
export class MemoryLeaseStore implements LeaseStore {
  readonly leases = new Map<string, Lease>();
  readonly revoked = new Set<string>();

  async record(lease: Lease): Promise<void> {
    const old = this.leases.get(key(lease.user, lease.desktopId));
    const renew = old !== undefined && isLive(old, lease.lastLaunchAt);
    this.leases.set(key(lease.user, lease.desktopId), {
      ...lease,
      createdAt: renew ? old.createdAt : lease.createdAt,
    });
  }

  async restore(lease: Lease): Promise<boolean> {
    const old = this.leases.get(key(lease.user, lease.desktopId));
    if (old && old.expiresAt >= lease.expiresAt) return false;
    this.leases.set(key(lease.user, lease.desktopId), lease);
    return true;
  }

  async extend(user: string, desktopId: number, expiresAt: number, now: number) {
    const old = this.leases.get(key(user, desktopId));
    if (!old || !isLive(old, now) || old.expiresAt >= expiresAt) return false;
    this.leases.set(key(user, desktopId), { ...old, expiresAt });
    return true;
  }

  async forUser(user: string, now: number) {
    const leases = [...this.leases.values()].filter(
      (l) => l.user.toLowerCase() === user.toLowerCase() && isLive(l, now),
    );
    return { leases, revoked: this.revoked.has(user.toLowerCase()) };
  }

  async list(
    filter: LeaseFilter,
    now: number,
    page: { limit: number; cursor?: string },
  ): Promise<LeasePage> {
    const all = [...this.leases.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .filter(([, l]) => leaseMatches(l, filter, now));
    const from = page.cursor === undefined ? 0 : all.findIndex(([k]) => k > page.cursor!);
    const slice = from < 0 ? [] : all.slice(from, from + page.limit);
    const more = from >= 0 && from + page.limit < all.length;
    return {
      leases: slice.map(([, l]) => l),
      ...(more ? { cursor: slice.at(-1)![0] } : {}),
    };
  }

  async remove(user: string, desktopId: number) {
    return this.leases.delete(key(user, desktopId));
  }

  async removeWhere(filter: Pick<LeaseFilter, 'user' | 'desktopId'>) {
    let n = 0;
    for (const [k, l] of this.leases) {
      if (leaseMatches(l, { ...filter, state: 'all' }, 0) && this.leases.delete(k)) n++;
    }
    return n;
  }

  async revoke(user: string) {
    this.revoked.add(user.toLowerCase());
    return this.removeWhere({ user });
  }

  async unrevoke(user: string) {
    this.revoked.delete(user.toLowerCase());
  }
}

/** The leased-mode outbox, in order. */
export class MemoryOutbox implements Outbox {
  readonly items: { id: string; item: OutboxItem }[] = [];
  #next = 0;
  async append(items: readonly OutboxItem[]) {
    for (const item of items) this.items.push({ id: String(++this.#next).padStart(8, '0'), item });
  }
  async pending(limit: number) {
    return this.items.slice(0, limit);
  }
  async remove(ids: readonly string[]) {
    for (const id of ids) {
      const i = this.items.findIndex((x) => x.id === id);
      if (i >= 0) this.items.splice(i, 1);
    }
  }
  async depth() {
    return this.items.length;
  }
}

/** What leased mode keeps of the site, accounts and agent keys. */
export class MemoryMirror implements LeasedModeMirror {
  site: Awaited<ReturnType<LeasedModeMirror['loadSite']>>;
  readonly accounts = new Map<string, MirroredAccount>();
  readonly agentKeys = new Map<string, MirroredAgentKey>();
  async saveSite(site: NonNullable<typeof this.site>) {
    this.site = site;
  }
  async loadSite() {
    return this.site;
  }
  async putAccounts(accounts: readonly MirroredAccount[]) {
    for (const a of accounts) this.accounts.set(`${a.authServer}#${a.name.toLowerCase()}`, a);
  }
  async removeAccounts(accounts: readonly { name: string; authServer: string | null }[]) {
    for (const a of accounts) this.accounts.delete(`${a.authServer}#${a.name.toLowerCase()}`);
  }
  async findAccount(name: string, authServer: string | null) {
    return this.accounts.get(`${authServer}#${name.toLowerCase()}`);
  }
  async putAgentKeys(keys: readonly MirroredAgentKey[]) {
    for (const k of keys) this.agentKeys.set(k.keyHash, k);
  }
  async removeAgentKeys(hashes: readonly string[]) {
    for (const h of hashes) this.agentKeys.delete(h);
  }
  async findAgentKey(keyHash: string) {
    return this.agentKeys.get(keyHash);
  }
}
