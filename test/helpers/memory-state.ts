/**
 * In-memory implementations of the state-table ports (leases, sessions, failed-login counters,
 * the leased-mode mirror and outbox, leased-mode forwards), of authentication (accounts, a
 * password hasher, a directory) and of the gateways (forward records, the control API), for
 * unit tests of the core use cases. They keep the adapters' rules (expiry checked on read and
 * in every conditional write, lockout windows), so a test of a use case means what it says.
 */

import type { Clock } from '../../functions/core/clock.ts';
import { GatewayUnavailableError } from '../../functions/core/errors.ts';
import type {
  ForwardRecord,
  ForwardSpec,
  ForwardStore,
  GatewayControl,
  GatewayEndpoint,
  GatewayInfo,
  OpenForward,
} from '../../functions/core/gateways/ports.ts';
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
import type {
  AccountStore,
  DirectoryAuthenticator,
  DirectoryUser,
  LocalAccount,
  PasswordHasher,
  SessionStore,
  ThrottleStore,
} from '../../functions/core/login/ports.ts';
import {
  isSessionLive,
  type Session,
  type SessionLimits,
} from '../../functions/core/login/sessions.ts';

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

/** Sessions, expiring on read as DynamoSessionStore's do. */
export class MemorySessionStore implements SessionStore {
  readonly sessions = new Map<string, Session>();
  readonly #limits: SessionLimits;
  readonly #clock: Clock;
  constructor(limits: SessionLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }
  async put(session: Session) {
    this.sessions.set(session.tokenHash, session);
  }
  async get(tokenHash: string) {
    const s = this.sessions.get(tokenHash);
    return s && isSessionLive(s, this.#limits, this.#clock.now()) ? s : undefined;
  }
  async touch(tokenHash: string, lastSeenAt: number) {
    const s = this.sessions.get(tokenHash);
    if (s) this.sessions.set(tokenHash, { ...s, lastSeenAt });
  }
  async delete(tokenHash: string) {
    this.sessions.delete(tokenHash);
  }
}

/** Failed-login counters with DynamoThrottleStore's window and lockout. */
export class MemoryThrottleStore implements ThrottleStore {
  readonly counters = new Map<string, { failures: number; firstAt: number; lockedUntil: number }>();
  async check(keys: readonly string[], now: number) {
    const items = keys.flatMap((k) => {
      const c = this.counters.get(k);
      return c ? [{ k, ...c }] : [];
    });
    const until = Math.max(0, ...items.map((i) => i.lockedUntil));
    return {
      lockedSeconds: until > now ? (until - now) / 1000 : 0,
      failing: items.filter((i) => i.failures > 0).map((i) => i.k),
    };
  }
  async recordFailure(
    keys: readonly string[],
    now: number,
    limits: { maxFailures: number; lockoutSeconds: number },
  ) {
    for (const k of keys) {
      const c = this.counters.get(k);
      const inWindow = c && c.firstAt > now - limits.lockoutSeconds * 1000;
      const next = inWindow
        ? { ...c, failures: c.failures + 1 }
        : { failures: 1, firstAt: now, lockedUntil: c?.lockedUntil ?? 0 };
      if (next.failures >= limits.maxFailures) {
        Object.assign(next, {
          failures: 0,
          firstAt: now,
          lockedUntil: now + limits.lockoutSeconds * 1000,
        });
      }
      this.counters.set(k, next);
    }
  }
  async clear(k: string) {
    this.counters.delete(k);
  }
}

/** A password "hash" that is the password with a prefix: tests need no argon2 cost. */
export const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
};

/** Local accounts; `admin` is the built-in one when given. */
export class MemoryAccountStore implements AccountStore {
  readonly accounts: LocalAccount[];
  constructor(accounts: LocalAccount[] = []) {
    this.accounts = accounts;
  }
  /** An account of `authServer` with a plain-hashed password. */
  static account(name: string, password: string, over: Partial<LocalAccount> = {}): LocalAccount {
    return {
      name,
      authServer: 'local',
      passwordHash: `plain:${password}`,
      groups: [],
      mfaSecret: null,
      builtin: false,
      ...over,
    };
  }
  async findBuiltinAdmin() {
    return this.accounts.find((a) => a.builtin);
  }
  async ensureBuiltinAdmin(): Promise<boolean> {
    return false;
  }
  async findLocalAccount(name: string, authServer: string | null) {
    return this.accounts.find(
      (a) =>
        !a.builtin && a.authServer === authServer && a.name.toLowerCase() === name.toLowerCase(),
    );
  }
}

/** A directory of users and passwords; `down` makes every call fail as an unreachable server. */
export class MemoryDirectory implements DirectoryAuthenticator {
  readonly users = new Map<string, { password: string; groups: string[] }>();
  down: Error | undefined;
  async authenticate(
    _server: unknown,
    username: string,
    password: string,
  ): Promise<DirectoryUser | undefined> {
    if (this.down) throw this.down;
    const u = this.users.get(username);
    return u && u.password === password ? { dn: `uid=${username}`, groups: u.groups } : undefined;
  }
  async probe() {
    if (this.down) throw this.down;
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

/** The `gateway_forward` records. */
export class MemoryForwardStore implements ForwardStore {
  readonly forwards: (ForwardRecord & { closed: boolean })[] = [];
  async record(forwards: readonly ForwardRecord[]) {
    this.forwards.push(...forwards.map((f) => ({ ...f, closed: false })));
  }
  async closeForUser(user: string, desktopId?: number) {
    const closing = this.forwards.filter(
      (f) =>
        !f.closed &&
        f.user.toLowerCase() === user.toLowerCase() &&
        (desktopId === undefined || f.desktopId === desktopId),
    );
    for (const f of closing) f.closed = true;
    return closing.map(({ closed: _c, ...f }) => f);
  }
  async liveForGateway(gateway: string, now: number) {
    return this.forwards
      .filter((f) => !f.closed && f.gateway === gateway && f.expiresAt > now)
      .map(({ closed: _c, ...f }) => f);
  }
}

/**
 * Gateways' control APIs: each gateway hands out ports from 20001 up; a gateway named in
 * `down` answers nothing; `load` sets what `info` reports for one.
 */
export class MemoryGatewayControl implements GatewayControl {
  readonly open_ = new Map<string, OpenForward[]>();
  readonly down = new Set<string>();
  readonly load = new Map<string, number>();
  readonly closed: { gateway: string; key: string }[] = [];
  #check(g: GatewayEndpoint) {
    if (this.down.has(g.name)) throw new GatewayUnavailableError(g.name);
  }
  #of(g: GatewayEndpoint) {
    if (!this.open_.has(g.name)) this.open_.set(g.name, []);
    return this.open_.get(g.name)!;
  }
  async open(g: GatewayEndpoint, spec: ForwardSpec) {
    this.#check(g);
    const list = this.#of(g);
    const listenPort = spec.listenPort ?? 20001 + list.length;
    const forward = { ...spec, listenPort, connections: 0 };
    list.push(forward);
    return forward;
  }
  async close(g: GatewayEndpoint, key: string) {
    this.#check(g);
    this.closed.push({ gateway: g.name, key });
    this.open_.set(
      g.name,
      this.#of(g).filter((f) => f.key !== key),
    );
  }
  async list(g: GatewayEndpoint) {
    this.#check(g);
    return [...this.#of(g)];
  }
  async ping(g: GatewayEndpoint) {
    this.#check(g);
  }
  async info(g: GatewayEndpoint): Promise<GatewayInfo> {
    this.#check(g);
    const forwards = this.load.get(g.name) ?? this.#of(g).length;
    return {
      name: g.name,
      version: 'memory',
      forwards,
      connections: 0,
      accepted: 0,
      refused: 0,
      bytesFromClients: 0,
      bytesToClients: 0,
      portRange: { from: 20001, to: 23000 },
      brokerForwarding: { on: false },
      brokerSync: 'off',
      state: 'RUNNING',
      startedAt: new Date(0).toISOString(),
      rssBytes: 0,
    };
  }
}
