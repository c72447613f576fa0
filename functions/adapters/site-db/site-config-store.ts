/**
 * The site configuration in the site database: export (read) and apply (one transaction).
 */
import { sql, type Transaction } from 'kysely';
import { type ConfigChange, desktopsOf, type NamedKind } from '../../core/site-config/diff.ts';
import type { SiteConfigStore } from '../../core/site-config/ports.ts';
import {
  type AuthServerConfig,
  DEFAULT_SETTINGS,
  type SiteConfig,
  type SiteSettings,
} from '../../core/site-config/schema.ts';
import type { SiteDb } from './connect.ts';
import { type Database, jsonb } from './schema.ts';

type Tx = Transaction<Database> | SiteDb;

/** Tables of the named kinds (desktops and pools included). */
const TABLE: Record<NamedKind, keyof Database> = {
  authServers: 'authServer',
  users: 'userAccount',
  roles: 'role',
  gateways: 'gateway',
  gatewayClusters: 'gatewayCluster',
  protocolPlans: 'protocolPlan',
  pools: 'pool',
  desktops: 'desktop',
  locations: 'location',
  policies: 'policy',
};

/** Serialises concurrent applies across every broker of the site. */
const APPLY_LOCK = 7_262_001;

class DryRun extends Error {
  readonly changes: ConfigChange[];
  constructor(changes: ConfigChange[]) {
    super('dry run');
    this.changes = changes;
  }
}

export class SqlSiteConfigStore implements SiteConfigStore {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  read(): Promise<SiteConfig> {
    return readSiteConfig(this.#db);
  }

  async apply(
    desired: SiteConfig,
    plan: (current: SiteConfig) => ConfigChange[],
    options: { dryRun: boolean },
  ): Promise<ConfigChange[]> {
    try {
      return await this.#db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(${APPLY_LOCK})`.execute(tx);
        const changes = plan(await readSiteConfig(tx));
        await writeChanges(tx, desired, changes);
        if (options.dryRun) throw new DryRun(changes);
        return changes;
      });
    } catch (e: unknown) {
      if (e instanceof DryRun) return e.changes;
      throw e;
    }
  }
}

/**
 * Runs the reads in parallel outside a transaction; inside one, in order, because a
 * transaction is one connection (and one Data API transaction id).
 */
async function inOrderInTransaction<T extends readonly (() => Promise<unknown>)[]>(
  db: Tx,
  reads: T,
): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  type Out = { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };
  if (!db.isTransaction) return (await Promise.all(reads.map((r) => r()))) as Out;
  const results: unknown[] = [];
  for (const read of reads) results.push(await read());
  return results as Out;
}

const byPosition = <T extends { position: number; id: number }>(a: T, b: T) =>
  a.position - b.position || a.id - b.id;

/** Reads the live configuration in export form. */
export async function readSiteConfig(db: Tx): Promise<SiteConfig> {
  const [
    servers,
    users,
    roles,
    gateways,
    clusters,
    members,
    plans,
    pools,
    desktops,
    locations,
    policies,
    entries,
    assignments,
    settings,
  ] = await inOrderInTransaction(db, [
    () => db.selectFrom('authServer').selectAll().where('deletedAt', 'is', null).execute(),
    () =>
      db
        .selectFrom('userAccount')
        .selectAll()
        .where('deletedAt', 'is', null)
        .where('builtin', '=', false)
        .orderBy('id')
        .execute(),
    () => db.selectFrom('role').selectAll().where('deletedAt', 'is', null).orderBy('id').execute(),
    () =>
      db.selectFrom('gateway').selectAll().where('deletedAt', 'is', null).orderBy('id').execute(),
    () =>
      db
        .selectFrom('gatewayCluster')
        .selectAll()
        .where('deletedAt', 'is', null)
        .orderBy('id')
        .execute(),
    () => db.selectFrom('gatewayClusterMember').selectAll().orderBy('position').execute(),
    () =>
      db
        .selectFrom('protocolPlan')
        .selectAll()
        .where('deletedAt', 'is', null)
        .orderBy('id')
        .execute(),
    () => db.selectFrom('pool').selectAll().where('deletedAt', 'is', null).orderBy('id').execute(),
    () =>
      db.selectFrom('desktop').selectAll().where('deletedAt', 'is', null).orderBy('id').execute(),
    () => db.selectFrom('location').selectAll().where('deletedAt', 'is', null).execute(),
    () =>
      db.selectFrom('policy').selectAll().where('deletedAt', 'is', null).orderBy('id').execute(),
    () => db.selectFrom('policyEntry').selectAll().orderBy('position').execute(),
    () => db.selectFrom('assignment').selectAll().where('deletedAt', 'is', null).execute(),
    () => db.selectFrom('setting').selectAll().execute(),
  ] as const);
  const name = (rows: { id: number; name: string }[]) => {
    const map = new Map(rows.map((r) => [r.id, r.name]));
    return (id: number | null) => (id === null ? undefined : map.get(id));
  };
  const serverName = name(servers);
  const gatewayName = name(gateways);
  const planName = name(plans);
  const poolName = name(pools);
  const locationName = name(locations);
  const roleName = name(roles);
  const policyName = name(policies);

  return {
    authServers: servers
      .sort(byPosition)
      .map(
        (s) =>
          ({ name: s.name, type: s.type, enabled: s.enabled, ...s.settings }) as AuthServerConfig,
      ),
    users: users.map((u) => ({
      name: u.name,
      ...(u.passwordHash ? { passwordHash: u.passwordHash } : {}),
      groups: u.groups,
      authServer: serverName(u.authServerId),
      ...(u.mfaSecret ? { mfaSecret: u.mfaSecret } : {}),
    })),
    roles: roles.map((r) => ({ name: r.name, admin: r.isAdmin })),
    gateways: gateways.map((g) => ({
      name: g.name,
      address: g.address,
      publicAddress: g.publicAddress,
      controlUrl: g.controlUrl,
      portRange: [g.portFrom, g.portTo] as [number, number],
      ...(g.webUrl ? { webUrl: g.webUrl } : {}),
    })),
    gatewayClusters: clusters.map((c) => ({
      name: c.name,
      mode: c.mode,
      members: members
        .filter((m) => m.clusterId === c.id)
        .map((m) => gatewayName(m.gatewayId))
        .filter((n): n is string => n !== undefined),
      ...(c.tag ? { tag: c.tag } : {}),
      ...(c.loadBalancerAddress ? { loadBalancerAddress: c.loadBalancerAddress } : {}),
      ...(c.webUrl ? { webUrl: c.webUrl } : {}),
    })),
    protocolPlans: plans.map((p) => ({ name: p.name, protocols: p.protocols })),
    pools: pools.map((p) => ({
      name: p.name,
      desktops: desktops
        .filter((d) => d.poolId === p.id)
        .map((d) => ({
          name: d.name,
          address: d.address,
          ...(Object.keys(d.ports ?? {}).length > 0 ? { ports: d.ports } : {}),
          ...(d.assignedUser ? { assignedTo: d.assignedUser } : {}),
          ...(d.agentKeyHash ? { agentKeyHash: d.agentKeyHash } : {}),
        })),
    })),
    locations: locations.sort(byPosition).map((l) => ({
      name: l.name,
      match: l.match,
      rules: l.rules as SiteConfig['locations'][number]['rules'],
      ...(l.protocolPlanId ? { protocolPlan: planName(l.protocolPlanId) } : {}),
    })),
    policies: policies.map((p) => ({
      name: p.name,
      entries: entries
        .filter((e) => e.policyId === p.id)
        .map((e) => ({
          pool: poolName(e.poolId)!,
          offer: e.offer,
          ...(e.backupPoolId ? { backupPool: poolName(e.backupPoolId) } : {}),
          ...(e.protocolPlanId ? { protocolPlan: planName(e.protocolPlanId) } : {}),
          release: e.release,
          releaseDelaySeconds: e.releaseDelaySeconds,
        })),
    })),
    assignments: assignments.sort(byPosition).map((a) => ({
      group: a.groupName,
      ...(a.locationId ? { location: locationName(a.locationId) } : {}),
      ...(a.mfaProvider ? { mfa: a.mfaProvider as 'totp' } : {}),
      role: roleName(a.roleId)!,
      policy: policyName(a.policyId)!,
    })),
    settings: mergeSettings(settings),
  };
}

/** Stored settings over the defaults (a setting never applied keeps its default). */
export function mergeSettings(rows: { key: string; value: unknown }[]): SiteSettings {
  const stored = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS)) {
    if (key in stored) merged[key] = stored[key];
  }
  return merged as SiteSettings;
}

/** Live name → id of one table, loaded on first use and kept up to date by the writer. */
class Ids {
  readonly #tx: Tx;
  readonly #maps = new Map<NamedKind, Map<string, number>>();
  constructor(tx: Tx) {
    this.#tx = tx;
  }
  async map(kind: NamedKind): Promise<Map<string, number>> {
    let map = this.#maps.get(kind);
    if (!map) {
      const rows = await this.#tx
        .selectFrom(TABLE[kind] as 'pool')
        .select(['id', 'name'])
        .where('deletedAt', 'is', null)
        .$if(kind === 'users', (q) => q.where(sql<boolean>`builtin = false`))
        .execute();
      map = new Map(rows.map((r) => [r.name.toLowerCase(), r.id]));
      this.#maps.set(kind, map);
    }
    return map;
  }
  async get(kind: NamedKind, name: string | undefined): Promise<number | null> {
    if (name === undefined) return null;
    const id = (await this.map(kind)).get(name.toLowerCase());
    if (id === undefined) throw new Error(`internal: no live ${kind} named "${name}"`);
    return id;
  }
  async set(kind: NamedKind, name: string, id: number): Promise<void> {
    (await this.map(kind)).set(name.toLowerCase(), id);
  }
}

const find = <T extends { name: string }>(list: T[], name: string): T => {
  const entry = list.find((e) => e.name.toLowerCase() === name.toLowerCase());
  if (!entry) throw new Error(`internal: no entry named "${name}" in the desired configuration`);
  return entry;
};

/** Writes the changes, in the order given (dependencies first, deletes last). */
async function writeChanges(
  tx: Transaction<Database>,
  desired: SiteConfig,
  changes: ConfigChange[],
): Promise<void> {
  const ids = new Ids(tx);
  const now = new Date();
  const desktops = desktopsOf(desired);

  for (const change of changes) {
    if (change.kind === 'settings') {
      const value = jsonb<unknown>(desired.settings[change.name as keyof SiteSettings]);
      await tx
        .insertInto('setting')
        .values({ key: change.name, value, updatedAt: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updatedAt: now }))
        .execute();
      continue;
    }
    if (change.kind === 'assignments') {
      await tx
        .updateTable('assignment')
        .set({ deletedAt: now })
        .where('deletedAt', 'is', null)
        .execute();
      const rows = [];
      for (const [position, a] of desired.assignments.entries()) {
        rows.push({
          position,
          groupName: a.group,
          locationId: await ids.get('locations', a.location),
          mfaProvider: a.mfa ?? null,
          roleId: (await ids.get('roles', a.role))!,
          policyId: (await ids.get('policies', a.policy))!,
        });
      }
      if (rows.length > 0) await tx.insertInto('assignment').values(rows).execute();
      continue;
    }
    const { kind, name, action } = change;
    if (action === 'delete') {
      const id = await ids.get(kind, name);
      await tx
        .updateTable(TABLE[kind] as 'pool')
        .set({ deletedAt: now, updatedAt: now })
        .where('id', '=', id!)
        .execute();
      (await ids.map(kind)).delete(name.toLowerCase());
      continue;
    }
    const values = await rowFor(kind, name, desired, desktops, ids);
    let id: number;
    if (action === 'create') {
      const row = await tx
        .insertInto(TABLE[kind] as 'pool')
        .values({ ...values, createdAt: now, updatedAt: now } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
      await ids.set(kind, name, id);
    } else {
      id = (await ids.get(kind, name))!;
      await tx
        .updateTable(TABLE[kind] as 'pool')
        .set({ ...values, updatedAt: now } as never)
        .where('id', '=', id)
        .execute();
    }
    if (kind === 'gatewayClusters') {
      const cluster = find(desired.gatewayClusters, name);
      await tx.deleteFrom('gatewayClusterMember').where('clusterId', '=', id).execute();
      const rows = [];
      for (const [position, member] of cluster.members.entries()) {
        rows.push({ clusterId: id, gatewayId: (await ids.get('gateways', member))!, position });
      }
      // A cluster of registered gateways only (a tag) has no fixed members.
      if (rows.length > 0) await tx.insertInto('gatewayClusterMember').values(rows).execute();
    }
    if (kind === 'policies') {
      const policy = find(desired.policies, name);
      await tx.deleteFrom('policyEntry').where('policyId', '=', id).execute();
      const rows = [];
      for (const [position, e] of policy.entries.entries()) {
        rows.push({
          policyId: id,
          position,
          poolId: (await ids.get('pools', e.pool))!,
          offer: e.offer,
          backupPoolId: await ids.get('pools', e.backupPool),
          protocolPlanId: await ids.get('protocolPlans', e.protocolPlan),
          release: e.release,
          releaseDelaySeconds: e.releaseDelaySeconds,
        });
      }
      await tx.insertInto('policyEntry').values(rows).execute();
    }
  }
}

/** The table row (without ids, timestamps) for one named entry of the desired configuration. */
async function rowFor(
  kind: NamedKind,
  name: string,
  desired: SiteConfig,
  desktops: ReturnType<typeof desktopsOf>,
  ids: Ids,
): Promise<Record<string, unknown>> {
  switch (kind) {
    case 'authServers': {
      const { name: n, type, enabled, ...settings } = find(desired.authServers, name);
      const position = desired.authServers.findIndex((s) => s.name === n);
      return { name: n, type, enabled, position, settings: jsonb(settings) };
    }
    case 'users': {
      const u = find(desired.users, name);
      return {
        name: u.name,
        authServerId: await ids.get('authServers', u.authServer),
        passwordHash: u.passwordHash ?? null,
        groups: jsonb(u.groups),
        mfaSecret: u.mfaSecret ?? null,
      };
    }
    case 'roles': {
      const r = find(desired.roles, name);
      return { name: r.name, isAdmin: r.admin };
    }
    case 'gateways': {
      const g = find(desired.gateways, name);
      return {
        name: g.name,
        address: g.address,
        publicAddress: g.publicAddress,
        controlUrl: g.controlUrl,
        portFrom: g.portRange[0],
        portTo: g.portRange[1],
        webUrl: g.webUrl ?? null,
      };
    }
    case 'gatewayClusters': {
      const c = find(desired.gatewayClusters, name);
      return {
        name: c.name,
        mode: c.mode,
        tag: c.tag ?? null,
        loadBalancerAddress: c.loadBalancerAddress ?? null,
        webUrl: c.webUrl ?? null,
      };
    }
    case 'protocolPlans': {
      const p = find(desired.protocolPlans, name);
      return { name: p.name, protocols: jsonb(p.protocols) };
    }
    case 'pools':
      return { name: find(desired.pools, name).name };
    case 'desktops': {
      const d = find(desktops, name);
      return {
        name: d.name,
        poolId: await ids.get('pools', d.pool),
        address: d.address,
        ports: jsonb(d.ports ?? {}),
        assignedUser: d.assignedTo ?? null,
        agentKeyHash: d.agentKeyHash ?? null,
      };
    }
    case 'locations': {
      const l = find(desired.locations, name);
      return {
        name: l.name,
        match: l.match,
        rules: jsonb(l.rules),
        position: desired.locations.findIndex((x) => x.name === l.name),
        protocolPlanId: await ids.get('protocolPlans', l.protocolPlan),
      };
    }
    case 'policies':
      return { name: find(desired.policies, name).name };
  }
}
