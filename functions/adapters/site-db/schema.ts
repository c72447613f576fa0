/**
 * Kysely types of the site database. Columns are snake_case in SQL and camelCase here
 * (Kysely's CamelCasePlugin). Tables whose rows the guide purges "90 days plus the log
 * retention after deletion" carry `deleted_at` (soft delete).
 */
import {
  type ColumnType,
  type Generated,
  type Insertable,
  type RawBuilder,
  type Selectable,
  sql,
  type Updateable,
} from 'kysely';
import type { PROTOCOLS } from '../../core/site-config/schema.ts';

type ProtocolName = (typeof PROTOCOLS)[number];

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/**
 * JSON stored as jsonb, written only through {@link jsonb}: an explicit cast, because the
 * RDS Data API binds strings as varchar, which PostgreSQL will not put in a jsonb column.
 */
type Json<T> = ColumnType<T, RawBuilder<T>, RawBuilder<T>>;

/** A value for a jsonb column, on every dialect. */
export function jsonb<T>(value: T): RawBuilder<T> {
  return sql<T>`cast(${JSON.stringify(value)} as jsonb)`;
}

export interface SiteTable {
  id: number;
  uuid: string;
  createdAt: Timestamp;
}

export interface SettingTable {
  key: string;
  value: Json<unknown>;
  updatedAt: Timestamp;
}

export interface AuthServerTable {
  id: Generated<number>;
  name: string;
  type: 'local' | 'ldap';
  position: number;
  enabled: Generated<boolean>;
  /** Type-specific settings (LDAP url, bind DN, bases, filters, ...). */
  settings: Json<Record<string, unknown>>;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface UserAccountTable {
  id: Generated<number>;
  name: string;
  /** Null for the built-in accounts (the `admin`). */
  authServerId: number | null;
  passwordHash: string | null;
  groups: Json<string[]>;
  mfaSecret: string | null;
  builtin: Generated<boolean>;
  lastLoginAt: NullableTimestamp;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface RoleTable {
  id: Generated<number>;
  name: string;
  isAdmin: boolean;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface ClientTable {
  id: Generated<number>;
  name: string;
  ip: string;
  loginGateway: string | null;
  /** Chosen HTTP headers and the attributes the client reported. */
  attributes: Json<Record<string, string>>;
  lastUser: string | null;
  firstSeenAt: Timestamp;
  lastSeenAt: Timestamp;
}

export interface LocationTable {
  id: Generated<number>;
  name: string;
  position: number;
  match: 'all' | 'any';
  rules: Json<{ attribute: string; op: string; value: string }[]>;
  protocolPlanId: number | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface ProtocolPlanTable {
  id: Generated<number>;
  name: string;
  protocols: Json<{ protocol: ProtocolName; port: number; gateway?: string }[]>;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface GatewayTable {
  id: Generated<number>;
  name: string;
  address: string;
  publicAddress: string;
  controlUrl: string;
  portFrom: number;
  portTo: number;
  /** Public URL of the gateway's HTTP face, for browsers (HTML5 display); since 0005. */
  webUrl: string | null;
  /** Last verdict of the `check_gateway` job: up, down or unknown. */
  status: Generated<'up' | 'down' | 'unknown'>;
  checkedAt: NullableTimestamp;
  /** The port range the gateway reported at its last check (`GET /info`); null before one. */
  reportedPortFrom: number | null;
  reportedPortTo: number | null;
  /** The version the gateway reported at its last check. */
  reportedVersion: string | null;
  /** When `status` last changed (schema 0003-admin-console). */
  statusSince: NullableTimestamp;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface GatewayClusterTable {
  id: Generated<number>;
  name: string;
  mode: 'all' | 'login' | 'fewest';
  loadBalancerAddress: string | null;
  /** Public URL of the load balancer in front of the members' HTTP faces; since 0005. */
  webUrl: string | null;
  /** Registered gateways with this tag are members (migration 0004). */
  tag: string | null;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface GatewayClusterMemberTable {
  clusterId: number;
  gatewayId: number;
  position: number;
}

export interface PoolTable {
  id: Generated<number>;
  name: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface DesktopTable {
  id: Generated<number>;
  name: string;
  poolId: number;
  address: string;
  /** The desktop's own port by protocol (`{ "vnc": 5902 }`), over its protocol plan's. */
  ports: Json<Record<string, number>>;
  /** Hard assignment: only this user is ever offered the desktop. */
  assignedUser: string | null;
  /** The user the desktop is handed to right now (claim), null when free. */
  heldBy: string | null;
  heldAt: NullableTimestamp;
  /** Release behaviour of the policy entry the desktop was claimed under. */
  heldRelease: 'on_logout' | 'on_disconnect' | 'never' | null;
  heldReleaseDelay: number | null;
  /** When a disconnected session's desktop goes back to its pool (on_disconnect). */
  releaseAfter: NullableTimestamp;
  /** What the agent last reported: none, connected, disconnected. */
  sessionState: Generated<'none' | 'connected' | 'disconnected'>;
  agentKeyHash: string | null;
  agentSeenAt: NullableTimestamp;
  /** Desktop marked unusable by the refresh job (no agent heartbeat, unreachable). */
  available: Generated<boolean>;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface PolicyTable {
  id: Generated<number>;
  name: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface PolicyEntryTable {
  id: Generated<number>;
  policyId: number;
  position: number;
  poolId: number;
  offer: number;
  backupPoolId: number | null;
  protocolPlanId: number | null;
  release: 'on_logout' | 'on_disconnect' | 'never';
  releaseDelaySeconds: number;
}

export interface AssignmentTable {
  id: Generated<number>;
  position: number;
  groupName: string;
  locationId: number | null;
  mfaProvider: string | null;
  roleId: number;
  policyId: number;
  createdAt: Timestamp;
  deletedAt: NullableTimestamp;
}

export interface GatewayForwardTable {
  id: Generated<number>;
  /** Null for a forward on a registered gateway (no row in `gateway`). */
  gatewayId: number | null;
  gatewayName: string;
  desktopId: number;
  userName: string;
  clientIp: string;
  listenPort: number;
  desktopHost: string;
  desktopPort: number;
  forwardKey: string;
  openedAt: Timestamp;
  expiresAt: Timestamp;
  deletedAt: NullableTimestamp;
}

/** The guide's `user_session`: a user on a desktop, as the agent reports it. */
export interface DesktopSessionTable {
  id: Generated<number>;
  desktopId: number;
  userName: string;
  clientIp: string | null;
  state: 'connected' | 'disconnected' | 'ended';
  startedAt: Timestamp;
  updatedAt: Timestamp;
  endedAt: NullableTimestamp;
  deletedAt: NullableTimestamp;
}

export interface BrokerTable {
  siteId: number;
  uuid: string;
  name: string;
  address: string;
  version: string;
  bootedAt: Timestamp;
  heartbeatAt: Timestamp;
  /** running or stopped; Unavailable is derived from a stale heartbeat. */
  status: 'running' | 'stopped';
}

export type JobStatus = 'pending' | 'running' | 'finished' | 'cancelled' | 'aborted' | 'deferred';

export interface WorkQueueTable {
  id: Generated<number>;
  kind: string;
  payload: Json<Record<string, unknown>>;
  idempotencyKey: string | null;
  status: JobStatus;
  /** The broker that ran (or runs) the job. */
  siteId: number | null;
  attempts: Generated<number>;
  runAfter: Timestamp;
  createdAt: Timestamp;
  startedAt: NullableTimestamp;
  finishedAt: NullableTimestamp;
  error: string | null;
  deletedAt: NullableTimestamp;
}

export interface LogTable {
  id: Generated<number>;
  at: Timestamp;
  event: string;
  userName: string | null;
  desktopId: number | null;
  clientIp: string | null;
  siteId: number | null;
  detail: string | null;
}

export interface OutboxAppliedTable {
  id: string;
  appliedAt: Timestamp;
}

export interface Database {
  site: SiteTable;
  setting: SettingTable;
  authServer: AuthServerTable;
  userAccount: UserAccountTable;
  role: RoleTable;
  client: ClientTable;
  location: LocationTable;
  protocolPlan: ProtocolPlanTable;
  gateway: GatewayTable;
  gatewayCluster: GatewayClusterTable;
  gatewayClusterMember: GatewayClusterMemberTable;
  pool: PoolTable;
  desktop: DesktopTable;
  policy: PolicyTable;
  policyEntry: PolicyEntryTable;
  assignment: AssignmentTable;
  gatewayForward: GatewayForwardTable;
  desktopSession: DesktopSessionTable;
  broker: BrokerTable;
  workQueue: WorkQueueTable;
  log: LogTable;
  outboxApplied: OutboxAppliedTable;
}

export type DesktopRow = Selectable<DesktopTable>;
export type NewDesktop = Insertable<DesktopTable>;
export type DesktopUpdate = Updateable<DesktopTable>;
