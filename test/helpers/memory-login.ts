/**
 * In-memory ports of signing in for unit tests: sessions (expiring on read), failed-login
 * counters (DynamoThrottleStore's window and lockout), local accounts, a password hasher
 * without argon2's cost, a directory.
 */
import type { Clock } from '../../functions/core/clock.ts';
import type {
  AccountStore,
  DirectoryAuthenticator,
  DirectoryUser,
  LocalAccount,
  PasswordHasher,
  SessionListPosition,
  SessionStore,
  ThrottleStore,
} from '../../functions/core/login/ports.ts';
import {
  isSessionLive,
  type Session,
  type SessionLimits,
} from '../../functions/core/login/sessions.ts';

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
  /** Live sessions in key order, as a scan of the state table pages them. */
  async list(page: { limit: number; after?: SessionListPosition; user?: string }) {
    const key = (hash: string) => ({ pk: `session#${hash}`, sk: 'session' });
    const live = [...this.sessions.values()]
      .filter((s) => isSessionLive(s, this.#limits, this.#clock.now()))
      .filter((s) => !page.user || s.user.toLowerCase() === page.user.toLowerCase())
      .sort((a, b) => a.tokenHash.localeCompare(b.tokenHash))
      .filter((s) => !page.after || key(s.tokenHash).pk > page.after.pk);
    const sessions = live.slice(0, page.limit);
    const more = live.length > page.limit;
    return { sessions, next: more ? key(sessions.at(-1)!.tokenHash) : undefined };
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
