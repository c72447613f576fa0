/**
 * The whole site schema, version 0001. Statements run one at a time (the RDS Data API takes
 * one statement per call) inside the migrator's transaction.
 */
import { type Kysely, sql } from 'kysely';

const audit = `created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz`;

/** Names are keys among live rows; soft-deleted rows keep theirs until purged. */
const liveName = (table: string) =>
  `CREATE UNIQUE INDEX ${table}_name_live ON ${table} (name) WHERE deleted_at IS NULL`;

const statements = [
  `CREATE TABLE site (
    id integer PRIMARY KEY CHECK (id = 1),
    uuid text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE setting (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE auth_server (
    id serial PRIMARY KEY,
    name text NOT NULL,
    type text NOT NULL CHECK (type IN ('local', 'ldap')),
    position integer NOT NULL DEFAULT 0,
    enabled boolean NOT NULL DEFAULT true,
    settings jsonb NOT NULL DEFAULT '{}',
    ${audit}
  )`,
  liveName('auth_server'),
  `CREATE TABLE user_account (
    id serial PRIMARY KEY,
    name text NOT NULL,
    auth_server_id integer REFERENCES auth_server (id),
    password_hash text,
    groups jsonb NOT NULL DEFAULT '[]',
    mfa_secret text,
    builtin boolean NOT NULL DEFAULT false,
    last_login_at timestamptz,
    ${audit}
  )`,
  `CREATE UNIQUE INDEX user_account_name_live ON user_account (coalesce(auth_server_id, 0), lower(name))
    WHERE deleted_at IS NULL`,
  `CREATE TABLE role (
    id serial PRIMARY KEY,
    name text NOT NULL,
    is_admin boolean NOT NULL DEFAULT false,
    ${audit}
  )`,
  liveName('role'),
  `CREATE TABLE client (
    id serial PRIMARY KEY,
    name text NOT NULL,
    ip text NOT NULL,
    login_gateway text,
    attributes jsonb NOT NULL DEFAULT '{}',
    last_user text,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, ip)
  )`,
  `CREATE TABLE protocol_plan (
    id serial PRIMARY KEY,
    name text NOT NULL,
    protocols jsonb NOT NULL,
    ${audit}
  )`,
  liveName('protocol_plan'),
  `CREATE TABLE location (
    id serial PRIMARY KEY,
    name text NOT NULL,
    position integer NOT NULL DEFAULT 0,
    match text NOT NULL CHECK (match IN ('all', 'any')),
    rules jsonb NOT NULL,
    protocol_plan_id integer REFERENCES protocol_plan (id),
    ${audit}
  )`,
  liveName('location'),
  `CREATE TABLE gateway (
    id serial PRIMARY KEY,
    name text NOT NULL,
    address text NOT NULL,
    public_address text NOT NULL,
    control_url text NOT NULL,
    port_from integer NOT NULL,
    port_to integer NOT NULL,
    status text NOT NULL DEFAULT 'unknown' CHECK (status IN ('up', 'down', 'unknown')),
    checked_at timestamptz,
    ${audit},
    CHECK (port_from <= port_to)
  )`,
  liveName('gateway'),
  `CREATE TABLE gateway_cluster (
    id serial PRIMARY KEY,
    name text NOT NULL,
    mode text NOT NULL CHECK (mode IN ('all', 'login', 'fewest')),
    load_balancer_address text,
    ${audit}
  )`,
  liveName('gateway_cluster'),
  `CREATE TABLE gateway_cluster_member (
    cluster_id integer NOT NULL REFERENCES gateway_cluster (id),
    gateway_id integer NOT NULL REFERENCES gateway (id),
    position integer NOT NULL DEFAULT 0,
    PRIMARY KEY (cluster_id, gateway_id)
  )`,
  `CREATE TABLE pool (
    id serial PRIMARY KEY,
    name text NOT NULL,
    ${audit}
  )`,
  liveName('pool'),
  `CREATE TABLE desktop (
    id serial PRIMARY KEY,
    name text NOT NULL,
    pool_id integer NOT NULL REFERENCES pool (id),
    address text NOT NULL,
    assigned_user text,
    held_by text,
    held_at timestamptz,
    held_release text CHECK (held_release IN ('on_logout', 'on_disconnect', 'never')),
    held_release_delay integer,
    release_after timestamptz,
    session_state text NOT NULL DEFAULT 'none' CHECK (session_state IN ('none', 'connected', 'disconnected')),
    agent_key_hash text,
    agent_seen_at timestamptz,
    available boolean NOT NULL DEFAULT true,
    ${audit}
  )`,
  liveName('desktop'),
  'CREATE INDEX desktop_pool_free ON desktop (pool_id, id) WHERE deleted_at IS NULL AND held_by IS NULL',
  'CREATE INDEX desktop_held_by ON desktop (lower(held_by)) WHERE held_by IS NOT NULL',
  'CREATE INDEX desktop_assigned_user ON desktop (lower(assigned_user)) WHERE assigned_user IS NOT NULL',
  'CREATE INDEX desktop_release_after ON desktop (release_after) WHERE release_after IS NOT NULL',
  'CREATE UNIQUE INDEX desktop_agent_key ON desktop (agent_key_hash) WHERE agent_key_hash IS NOT NULL AND deleted_at IS NULL',
  `CREATE TABLE policy (
    id serial PRIMARY KEY,
    name text NOT NULL,
    ${audit}
  )`,
  liveName('policy'),
  `CREATE TABLE policy_entry (
    id serial PRIMARY KEY,
    policy_id integer NOT NULL REFERENCES policy (id),
    position integer NOT NULL,
    pool_id integer NOT NULL REFERENCES pool (id),
    offer integer NOT NULL CHECK (offer >= 0),
    backup_pool_id integer REFERENCES pool (id),
    protocol_plan_id integer REFERENCES protocol_plan (id),
    release text NOT NULL CHECK (release IN ('on_logout', 'on_disconnect', 'never')),
    release_delay_seconds integer NOT NULL DEFAULT 0
  )`,
  'CREATE INDEX policy_entry_policy ON policy_entry (policy_id, position)',
  `CREATE TABLE assignment (
    id serial PRIMARY KEY,
    position integer NOT NULL,
    group_name text NOT NULL,
    location_id integer REFERENCES location (id),
    mfa_provider text,
    role_id integer NOT NULL REFERENCES role (id),
    policy_id integer NOT NULL REFERENCES policy (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
  )`,
  `CREATE TABLE gateway_forward (
    id bigserial PRIMARY KEY,
    gateway_id integer NOT NULL REFERENCES gateway (id),
    desktop_id integer NOT NULL REFERENCES desktop (id),
    user_name text NOT NULL,
    client_ip text NOT NULL,
    listen_port integer NOT NULL,
    desktop_host text NOT NULL,
    desktop_port integer NOT NULL,
    forward_key text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    deleted_at timestamptz
  )`,
  `CREATE UNIQUE INDEX gateway_forward_port_live ON gateway_forward (gateway_id, listen_port)
    WHERE deleted_at IS NULL`,
  `CREATE TABLE desktop_session (
    id bigserial PRIMARY KEY,
    desktop_id integer NOT NULL REFERENCES desktop (id),
    user_name text NOT NULL,
    client_ip text,
    state text NOT NULL CHECK (state IN ('connected', 'disconnected', 'ended')),
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    deleted_at timestamptz
  )`,
  'CREATE INDEX desktop_session_desktop ON desktop_session (desktop_id) WHERE deleted_at IS NULL',
  `CREATE TABLE broker (
    site_id integer PRIMARY KEY,
    uuid text NOT NULL,
    name text NOT NULL,
    address text NOT NULL,
    version text NOT NULL,
    booted_at timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'stopped'))
  )`,
  `CREATE TABLE work_queue (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    idempotency_key text UNIQUE,
    status text NOT NULL CHECK (status IN ('pending', 'running', 'finished', 'cancelled', 'aborted', 'deferred')),
    site_id integer,
    attempts integer NOT NULL DEFAULT 0,
    run_after timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    error text,
    deleted_at timestamptz
  )`,
  `CREATE INDEX work_queue_ready ON work_queue (run_after, id)
    WHERE status IN ('pending', 'deferred') AND deleted_at IS NULL`,
  'CREATE INDEX work_queue_finished ON work_queue (finished_at) WHERE finished_at IS NOT NULL',
  `CREATE TABLE log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    event text NOT NULL,
    user_name text,
    desktop_id integer,
    client_ip text,
    site_id integer,
    detail text
  )`,
  'CREATE INDEX log_at ON log (at)',
  // Outbox items of leased mode already written back (exactly once; purged after 7 days).
  `CREATE TABLE outbox_applied (
    id text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}
