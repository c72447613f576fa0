/**
 * Ports of signing in: password hashing, local accounts, directories (LDAP / Active
 * Directory), failed-login counters and sessions.
 */
import type { LdapAuthServerConfig } from '../site-config/schema.ts';
import type { Session } from './sessions.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a malformed hash; never throws for either. */
  verify(hash: string, password: string): Promise<boolean>;
}

/** Sessions live in the state table (DynamoDB), apart from the site database. */
export interface SessionStore {
  put(session: Session): Promise<void>;
  get(tokenHash: string): Promise<Session | undefined>;
  touch(tokenHash: string, lastSeenAt: number): Promise<void>;
  delete(tokenHash: string): Promise<void>;
  /**
   * Live sessions, a page at a time in the store's own order (the admin console's Sessions
   * view), optionally one user's (any case). `after` is the `next` of the previous page.
   */
  list(page: {
    readonly limit: number;
    readonly after?: SessionListPosition;
    readonly user?: string;
  }): Promise<{ sessions: Session[]; next: SessionListPosition | undefined }>;
}

/** Where a sessions listing goes on: the state table's key. */
export interface SessionListPosition {
  readonly pk: string;
  readonly sk: string;
}

/** A local account as the site database holds it. */
export interface LocalAccount {
  readonly name: string;
  readonly authServer: string | null;
  readonly passwordHash: string | null;
  readonly groups: readonly string[];
  readonly mfaSecret: string | null;
  readonly builtin: boolean;
}

/** The built-in administrator account. */
export interface AdminAccountStore {
  /** The built-in `admin`, or undefined on a site that has none yet. */
  findBuiltinAdmin(): Promise<LocalAccount | undefined>;
  /** Creates the built-in `admin` with this hash; does nothing if it exists. Returns whether it created it. */
  ensureBuiltinAdmin(passwordHash: string): Promise<boolean>;
}

/** What an LDAP / Active Directory server says of a user who signed in. */
export interface DirectoryUser {
  readonly dn: string;
  /** Group names (the server's `groupAttribute`, `cn` by default). */
  readonly groups: readonly string[];
}

/** LDAP and Active Directory authentication. */
export interface DirectoryAuthenticator {
  /**
   * Finds the user (service bind, then search with `userFilter`), binds as them with
   * `password`, and reads their groups. Resolves undefined for an unknown user or a wrong
   * password. @throws {AuthServerUnavailableError} when the server does not answer.
   */
  authenticate(
    server: LdapAuthServerConfig,
    username: string,
    password: string,
  ): Promise<DirectoryUser | undefined>;
  /** Resolves when the server accepts a connection within its timeout. */
  probe(server: LdapAuthServerConfig): Promise<void>;
}

/** Local accounts in the site database. */
export interface AccountStore extends AdminAccountStore {
  /** A live local account of `authServer` (null: the built-in accounts), by case-insensitive name. */
  findLocalAccount(name: string, authServer: string | null): Promise<LocalAccount | undefined>;
}

/** Failed-login counters, shared by every broker (kept in the state table). */
export interface ThrottleStore {
  /**
   * Seconds until none of `keys` is locked (0 when none is), and which keys have failures
   * counted (so a successful login clears only those).
   */
  check(
    keys: readonly string[],
    now: number,
  ): Promise<{ lockedSeconds: number; failing: readonly string[] }>;
  /** Counts a failure on each key; a key reaching the limit is locked for the lockout time. */
  recordFailure(
    keys: readonly string[],
    now: number,
    limits: { maxFailures: number; lockoutSeconds: number },
  ): Promise<void>;
  /** Forgets a key's failures (after a successful login). */
  clear(key: string, now: number): Promise<void>;
}
