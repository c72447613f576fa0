/**
 * What `apply` changes: the named entries of the desired configuration compared with the
 * current one. Entries compare by their canonical JSON, so an export applied back changes
 * nothing.
 */
import type { SiteConfig } from './schema.ts';

/** Collections whose entries are keyed by name. Desktops are keyed site-wide. */
export const NAMED_KINDS = [
  'authServers',
  'users',
  'roles',
  'gateways',
  'gatewayClusters',
  'protocolPlans',
  'pools',
  'desktops',
  'locations',
  'policies',
] as const;
export type NamedKind = (typeof NAMED_KINDS)[number];

export type ConfigChange =
  | { kind: NamedKind; action: 'create' | 'update' | 'delete'; name: string }
  | { kind: 'assignments'; action: 'replace'; name: '*' }
  | { kind: 'settings'; action: 'update'; name: string };

/** A desktop with the pool it belongs to, as the diff sees it. */
export interface DesktopEntry {
  name: string;
  pool: string;
  address: string;
  ports?: Partial<Record<string, number>>;
  assignedTo?: string;
  agentKeyHash?: string;
}

/** Every desktop with its pool; no `ports` when it has none (as export writes it). */
export function desktopsOf(config: Pick<SiteConfig, 'pools'>): DesktopEntry[] {
  return config.pools.flatMap((pool) =>
    pool.desktops.map(({ agentKey: _key, ports, ...desktop }) => ({
      ...desktop,
      ...(ports && Object.keys(ports).length > 0 ? { ports } : {}),
      pool: pool.name,
    })),
  );
}

/** Kinds whose order in the file matters (login tries auth servers in order, locations too). */
const ORDERED: ReadonlySet<NamedKind> = new Set(['authServers', 'locations']);

/** Pools compare without their desktops: desktops are diffed on their own. */
const entriesOf = (config: SiteConfig, kind: NamedKind): { name: string }[] => {
  if (kind === 'desktops') return desktopsOf(config);
  if (kind === 'pools') return config.pools.map((p) => ({ name: p.name }));
  if (ORDERED.has(kind)) return config[kind].map((e, position) => ({ ...e, position }));
  return config[kind];
};

/** JSON with sorted keys and without undefined values, for comparing entries. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * Lists what must change to turn `current` into `desired`, in an order that respects
 * references (creates and updates in dependency order, then deletes).
 */
export function diffSiteConfig(current: SiteConfig, desired: SiteConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const deletes: ConfigChange[] = [];
  for (const kind of NAMED_KINDS) {
    const before = new Map(entriesOf(current, kind).map((e) => [e.name.toLowerCase(), e]));
    const after = entriesOf(desired, kind);
    for (const entry of after) {
      const old = before.get(entry.name.toLowerCase());
      if (!old) changes.push({ kind, action: 'create', name: entry.name });
      else if (canonical(old) !== canonical(entry))
        changes.push({ kind, action: 'update', name: entry.name });
      before.delete(entry.name.toLowerCase());
    }
    for (const gone of before.values()) deletes.push({ kind, action: 'delete', name: gone.name });
  }
  if (canonical(current.assignments) !== canonical(desired.assignments)) {
    changes.push({ kind: 'assignments', action: 'replace', name: '*' });
  }
  for (const key of Object.keys(desired.settings) as (keyof SiteConfig['settings'])[]) {
    if (canonical(current.settings[key]) !== canonical(desired.settings[key])) {
      changes.push({ kind: 'settings', action: 'update', name: key });
    }
  }
  // Deletes go last, dependents first (the reverse of creation order).
  return [...changes, ...deletes.reverse()];
}

/** A one-line description of a change, for CLI output and the API. */
export function describeChange(change: ConfigChange): string {
  if (change.kind === 'assignments') return 'replace assignments';
  if (change.kind === 'settings') return `update setting ${change.name}`;
  return `${change.action} ${SINGULAR[change.kind]} "${change.name}"`;
}

const SINGULAR: Record<NamedKind, string> = {
  authServers: 'authentication server',
  users: 'user',
  roles: 'role',
  gateways: 'gateway',
  gatewayClusters: 'gateway cluster',
  protocolPlans: 'protocol plan',
  pools: 'pool',
  desktops: 'desktop',
  locations: 'location',
  policies: 'policy',
};
