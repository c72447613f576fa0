/**
 * Ports: what the domain needs from the outside world. Adapters implement them; use cases
 * receive them as arguments, so tests hand in real or in-memory implementations.
 */
import type { Session } from './sessions.ts';
import type { ConfigChange } from './site-config/diff.ts';
import type { AuthServerConfig, LdapAuthServerConfig, SiteConfig } from './site-config/schema.ts';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a malformed hash; never throws for either. */
  verify(hash: string, password: string): Promise<boolean>;
}

/** The site configuration as a whole, for apply and export. */
export interface SiteConfigStore {
  /** The live configuration in export form (hashes, no clear passwords), defaults filled. */
  read(): Promise<SiteConfig>;
  /**
   * In one transaction: re-reads the configuration, asks `plan` what to change, writes it.
   * With `dryRun` the transaction is rolled back and the planned changes returned.
   */
  apply(
    desired: SiteConfig,
    plan: (current: SiteConfig) => ConfigChange[],
    options: { dryRun: boolean },
  ): Promise<ConfigChange[]>;
}

/** Sessions live in the state table (DynamoDB), apart from the site database. */
export interface SessionStore {
  put(session: Session): Promise<void>;
  get(tokenHash: string): Promise<Session | undefined>;
  touch(tokenHash: string, lastSeenAt: number): Promise<void>;
  delete(tokenHash: string): Promise<void>;
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

/** Checks the health verdicts of the guide's `is_alive` need. */
export interface HealthProbes {
  /** Resolves when the site database answers a trivial query. */
  pingDatabase(): Promise<void>;
  /** The enabled authentication servers, read from the site database. */
  enabledAuthServers(): Promise<AuthServerConfig[]>;
  /** Resolves when the server answers (a TCP/TLS connect to its address). */
  probeAuthServer(server: AuthServerConfig): Promise<void>;
  /** The 1-minute load average of this broker. */
  loadAverage(): number;
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

/** One TCP port forward on a gateway: listenPort on the gateway → desktop host:port, for one client IP. */
export interface ForwardSpec {
  /** Random key naming the forward (the guide's `Key` column). */
  readonly key: string;
  /** A port from the gateway's range; the gateway picks a free one when absent. */
  readonly listenPort?: number;
  readonly desktopHost: string;
  readonly desktopPort: number;
  /** The only source address allowed to connect. */
  readonly clientIp: string;
  /** Epoch milliseconds after which the forward closes. */
  readonly expiresAt: number;
  /** Seconds without traffic after which a connection is closed; the forward stays. */
  readonly idleSeconds?: number;
}

export interface OpenForward extends ForwardSpec {
  readonly listenPort: number;
  /** Connections open through it now. */
  readonly connections: number;
}

/** How the broker reaches a gateway's control API. */
export interface GatewayEndpoint {
  readonly name: string;
  readonly controlUrl: string;
}

/** The broker's side of the gateway control API. */
export interface GatewayControl {
  /** Opens (or re-opens, same key) a forward; resolves with the port it listens on. */
  open(gateway: GatewayEndpoint, forward: ForwardSpec): Promise<OpenForward>;
  /** Closes a forward; closing an unknown key is not an error. */
  close(gateway: GatewayEndpoint, key: string): Promise<void>;
  list(gateway: GatewayEndpoint): Promise<OpenForward[]>;
  /** Resolves when the gateway's control API answers. */
  ping(gateway: GatewayEndpoint): Promise<void>;
}

/** Local accounts in the site database. */
export interface AccountStore extends AdminAccountStore {
  /** A live local account of `authServer` (null: the built-in accounts), by case-insensitive name. */
  findLocalAccount(name: string, authServer: string | null): Promise<LocalAccount | undefined>;
}
