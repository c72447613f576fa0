/**
 * Ports: what the domain needs from the outside world. Adapters implement them; use cases
 * receive them as arguments, so tests hand in real or in-memory implementations.
 */
import type { Lease, LeasedSite } from './leasing.ts';
import type { DesktopRecord } from './offers.ts';
import type { Session } from './sessions.ts';
import type { ConfigChange } from './site-config/diff.ts';
import type { AuthServerConfig, LdapAuthServerConfig, SiteConfig } from './site-config/schema.ts';
import type { SiteSnapshot } from './site-snapshot.ts';

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
  /** The gateway's state; `forwards` is how many forwards it holds open. */
  info(gateway: GatewayEndpoint): Promise<{ readonly forwards: number }>;
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

/** The cached view of the site configuration the login path reads. */
export interface SiteSnapshotSource {
  get(): Promise<SiteSnapshot>;
  /** Drops the cached copy (after an apply on this broker). */
  invalidate(): void;
}

/** Which desktops to read for an offer list: the user's own, and free ones per pool. */
export interface OfferQuery {
  readonly user: string;
  readonly poolIds: readonly number[];
  /** Free candidates to read per pool. */
  readonly perPool: number;
}

/** A log row: who did what, when, where. Kept small (the guide budgets ~5 KB per login). */
export interface LogEntry {
  readonly event: string;
  readonly user: string | null;
  readonly desktopId?: number | null;
  readonly clientIp?: string | null;
  readonly detail?: string | null;
}

export interface LoginRecord {
  readonly user: string;
  readonly client: {
    readonly name: string;
    readonly ip: string;
    readonly loginGateway: string | null;
    readonly attributes: Readonly<Record<string, string>>;
  };
  readonly detail: string;
}

/** How a desktop goes back to its pool, by pool id (from the policy entry it was offered under). */
export type ReleaseRules = ReadonlyMap<
  number,
  { release: 'on_logout' | 'on_disconnect' | 'never'; delaySeconds: number }
>;

export interface ClaimRequest {
  readonly user: string;
  readonly desktopId: number;
  /** Pools the user's policy offers from (primary and backup). */
  readonly policyPoolIds: readonly number[];
  /** Of those, the pools whose protocol plan offers the protocol asked for. */
  readonly claimablePoolIds: readonly number[];
  /** Whether the user's own desktops outside the policy's pools may be claimed (default plan). */
  readonly otherPoolsClaimable: boolean;
  readonly releaseRules: ReleaseRules;
  /** The connect log row's detail by pool id ("rdp via east"); `defaultDetail` elsewhere. */
  readonly logDetails: ReadonlyMap<number, string>;
  readonly defaultDetail: string;
  readonly clientIp: string;
}

/** Desktops in the site database: offers, claims, releases, agent events. */
export interface DesktopStore {
  /**
   * In one round trip: registers (upserts) the client, writes the login log row, and reads
   * the offer candidates.
   */
  recordLogin(
    record: LoginRecord,
    query: OfferQuery,
  ): Promise<{ clientId: number; desktops: DesktopRecord[] }>;
  /** The offer candidates alone (a refreshed offer list). */
  offerCandidates(query: OfferQuery): Promise<DesktopRecord[]>;
  /**
   * Atomically hands a desktop to the user and logs it, in one statement: the one asked for
   * when it is free or already the user's, else another free desktop of the same pool.
   * Resolves undefined when there is none; never gives one desktop to two users.
   */
  claim(request: ClaimRequest): Promise<DesktopRecord | undefined>;
  /** Why {@link claim} found nothing (only asked on that failure path). */
  whyNotClaimed(
    request: ClaimRequest,
  ): Promise<'unknown_desktop' | 'not_yours' | 'pool_exhausted' | 'unsupported_protocol'>;
  /** Releases a desktop the user holds; undefined when the user does not hold it. */
  release(user: string, desktopId: number, clientIp: string): Promise<DesktopRecord | undefined>;
  /** At broker logout: releases the user's idle desktops whose rule is on_logout; logs the logout. */
  releaseOnLogout(user: string, clientIp: string): Promise<DesktopRecord[]>;
  /** Releases desktops whose disconnect delay has passed (the delayed_release job). */
  releaseExpiredDisconnects(now: number): Promise<DesktopRecord[]>;
  appendLog(entries: readonly LogEntry[]): Promise<void>;
}

export type AgentEventKind = 'login' | 'logout' | 'disconnect' | 'reconnect' | 'heartbeat';

export interface AgentDesktop {
  readonly id: number;
  readonly name: string;
  readonly address: string;
  readonly heldBy: string | null;
  readonly assignedUser: string | null;
}

/** What an agent event changed. */
export interface AgentEventResult {
  readonly desktop: AgentDesktop;
  /** The user whose desktop went back to the pool, if it did. */
  readonly released: string | null;
  readonly sessionState: 'none' | 'connected' | 'disconnected';
}

/** Desktop agents: find a desktop by its agent key, record what the agent reports. */
export interface AgentStore {
  desktopByAgentKey(keyHash: string): Promise<AgentDesktop | undefined>;
  /** Desktops with a session open whose agent has not reported since `cutoff` (epoch ms). */
  silentSince(cutoff: number): Promise<number[]>;
  /** Applies one event in one transaction: desktop state, desktop session, release, log row. */
  applyEvent(
    desktopId: number,
    event: AgentEventKind,
    user: string | null,
    now: number,
  ): Promise<AgentEventResult>;
}

/** How a client reaches a desktop: directly, or through a gateway forward. */
export type ConnectionPath =
  | { readonly via: 'direct'; readonly host: string; readonly port: number }
  | {
      readonly via: 'gateway';
      readonly host: string;
      readonly port: number;
      readonly gateway: string;
    };

export interface PathRequest {
  readonly user: string;
  readonly desktop: { readonly id: number; readonly name: string; readonly address: string };
  readonly protocol: {
    readonly protocol: string;
    readonly port: number;
    readonly gateway?: string;
  };
  readonly clientIp: string;
  readonly loginGateway: string | null;
  /** When the forward may close at the latest (the end of the user's session), epoch ms. */
  readonly expiresAt: number;
}

/** Opens the path a connection takes (gateway forwards), and closes them again. */
export interface GatewayRouter {
  open(request: PathRequest): Promise<ConnectionPath>;
  /** Closes the user's forwards (to one desktop, or all of them). */
  closeForUser(user: string, desktopId?: number): Promise<void>;
}

/** Options of {@link JobQueue.enqueue}. */
export interface EnqueueOptions {
  /**
   * Makes the job unique: enqueueing a key the queue already holds does nothing (default: a
   * random key). Periodic jobs use one key per period (core/jobs/schedule.ts).
   */
  readonly idempotencyKey?: string;
  /** Earliest start, epoch milliseconds. */
  readonly runAt?: number;
  /** Only this broker may run the job (the local work_queue; SQS ignores it). */
  readonly siteId?: number;
}

/**
 * The job queue: SQS on AWS (`JOB_QUEUE_URL`), the site database's `work_queue` table on a
 * local cluster. Every job also has a `work_queue` row, for the job-queue view.
 */
export interface JobQueue {
  readonly transport: 'sqs' | 'work_queue';
  /** Resolves whether the job was enqueued (false: its key was already there). */
  enqueue(
    job: import('./jobs/payload.ts').JobPayload,
    options?: EnqueueOptions,
  ): Promise<{ enqueued: boolean; idempotencyKey: string }>;
}

/** A gateway forward as the site database records it. */
export interface ForwardRecord {
  readonly gatewayId: number;
  readonly gateway: string;
  readonly desktopId: number;
  readonly user: string;
  readonly clientIp: string;
  readonly listenPort: number;
  readonly desktopHost: string;
  readonly desktopPort: number;
  readonly key: string;
  readonly expiresAt: number;
}

/** The `gateway_forward` records: what every gateway should hold open. */
export interface ForwardStore {
  /** Records forwards just opened (one statement). */
  record(forwards: readonly ForwardRecord[]): Promise<void>;
  /** Marks the user's live forwards (to one desktop, or all) closed and returns them. */
  closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]>;
  /** The live, unexpired forwards of one gateway (a restarted gateway re-opens them). */
  liveForGateway(gateway: string, now: number): Promise<ForwardRecord[]>;
}

/** Connection leases in the state table. Reads check expiry; writes are single-item. */
export interface LeaseStore {
  /** Writes the lease of a launch (keeps the creation time of an existing lease). */
  record(lease: Lease): Promise<void>;
  /** Moves an existing lease's expiry; resolves false when there is no such lease. */
  extend(user: string, desktopId: number, expiresAt: number): Promise<boolean>;
  /** The user's unexpired leases, and whether an administrator revoked them. */
  forUser(user: string, now: number): Promise<{ leases: Lease[]; revoked: boolean }>;
  /** Every unexpired lease, or one user's. */
  list(filter: { user?: string }, now: number): Promise<Lease[]>;
  /** Removes one lease; resolves false when there was none. */
  remove(user: string, desktopId: number): Promise<boolean>;
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
}

/** Writes one outbox item to the site database exactly once (a marker row in the same transaction). */
export interface OutboxReplayer {
  apply(id: string, item: OutboxItem): Promise<'applied' | 'duplicate'>;
  /** Forgets the exactly-once markers older than `days` (7 by default). */
  purgeMarkers(now: number, days?: number): Promise<number>;
}
