/**
 * `deskbroker leases list|remove|rebuild`: lease administration as Citrix's cmdlets
 * (Get-BrokerLease, Remove-BrokerLease, Update-BrokerLocalLeaseCache), on the site directly
 * or, with --url, through a running broker's admin API.
 */
import { loadConfig } from '../../config.ts';
import { isLive, type Lease } from '../../core/leasing/leases.ts';
import type { LeaseFilter } from '../../core/leasing/ports.ts';
import type { RebuildResult } from '../../core/leasing/upkeep.ts';
import { openLocal } from '../runtime.ts';
import { adminFetch } from './remote.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

type Flags = Record<string, string | boolean | undefined>;

interface ListedLease {
  readonly user: string;
  readonly desktopId: number;
  readonly desktopName: string;
  readonly launch: { readonly protocol: string };
  readonly lastLaunchAt: string;
  readonly expiresAt: string;
  readonly state: 'live' | 'expired';
}

/** What the sub-commands do, on the site database or through the admin API. */
interface LeaseAdmin {
  list(filter: LeaseFilter, cursor?: string): Promise<{ leases: ListedLease[]; next?: string }>;
  remove(filter: Pick<LeaseFilter, 'user' | 'desktopId'>): Promise<number>;
  rebuild(): Promise<RebuildResult>;
  close(): Promise<void>;
}

const PAGE = 500;

const view = (l: Lease, now: number): ListedLease => ({
  ...l,
  lastLaunchAt: new Date(l.lastLaunchAt).toISOString(),
  expiresAt: new Date(l.expiresAt).toISOString(),
  state: isLive(l, now) ? 'live' : 'expired',
});

async function localAdmin(flags: Flags, env: NodeJS.ProcessEnv): Promise<LeaseAdmin> {
  const local = await openLocal(loadConfig(envWithFlags(env, flags)));
  const { broker } = local;
  const { leases } = broker.leasing;
  return {
    async list(filter, cursor) {
      const now = broker.clock.now();
      const page = await leases.list(filter, now, { limit: PAGE, cursor });
      return { leases: page.leases.map((l) => view(l, now)), next: page.cursor };
    },
    remove: (filter) => leases.removeWhere(filter),
    rebuild: () => broker.leasing.rebuild(),
    close: () => local.close(),
  };
}

function remoteAdmin(url: string, env: NodeJS.ProcessEnv): LeaseAdmin {
  const query = (params: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    return q.toString();
  };
  const call = async <T>(method: string, pathAndQuery: string): Promise<T> =>
    (await (
      await adminFetch(url, env, `/api/v1/admin/leases${pathAndQuery}`, { method })
    ).json()) as T;
  return {
    async list(filter, cursor) {
      const page = await call<{ leases: ListedLease[]; nextCursor: string | null }>(
        'GET',
        `?${query({ ...filter, limit: PAGE, cursor })}`,
      );
      return { leases: page.leases, next: page.nextCursor ?? undefined };
    },
    async remove(filter) {
      const all = filter.user === undefined && filter.desktopId === undefined;
      return (
        await call<{ removed: number }>('DELETE', `?${query(all ? { all: 'true' } : filter)}`)
      ).removed;
    },
    rebuild: () => call<RebuildResult>('POST', '/rebuild'),
    close: async () => {},
  };
}

/** The user and desktop flags; an error sentence for a bad desktop id. */
function filterOf(flags: Flags): Pick<LeaseFilter, 'user' | 'desktopId'> | string {
  const user = typeof flags.user === 'string' && flags.user !== '' ? flags.user : undefined;
  if (flags.desktop === undefined) return { user };
  const desktopId = Number(flags.desktop);
  if (!Number.isInteger(desktopId) || desktopId < 1)
    return '--desktop takes a desktop id (a number)';
  return { user, desktopId };
}

export const leasesCommand: Command = {
  usage:
    'leases list [--user NAME] [--desktop ID] [--state live|expired|all] | leases remove (--user NAME | --desktop ID | both | --all) | leases rebuild   [--db URL | --url BROKER_URL]',
  summary:
    'list connection leases, remove a user’s or a desktop’s (or all), or rebuild them from the launches in the site database',
  options: {
    ...siteFlags,
    url: { type: 'string' },
    user: { type: 'string' },
    desktop: { type: 'string' },
    state: { type: 'string' },
    all: { type: 'boolean' },
  },
  async run(flags, positionals, env) {
    const action = positionals[0];
    const fail = (message: string) => {
      console.error(`deskbroker leases: ${message}\n\nusage: deskbroker ${this.usage}`);
      return 2;
    };
    if (action !== 'list' && action !== 'remove' && action !== 'rebuild')
      return fail('say list, remove or rebuild');
    const filter = filterOf(flags);
    if (typeof filter === 'string') return fail(filter);
    const state = flags.state ?? 'live';
    if (state !== 'live' && state !== 'expired' && state !== 'all')
      return fail('--state is live, expired or all');
    const named = filter.user !== undefined || filter.desktopId !== undefined;
    if (action === 'remove' && named === Boolean(flags.all))
      return fail('remove takes --user, --desktop or both, or --all alone');

    const admin =
      typeof flags.url === 'string' ? remoteAdmin(flags.url, env) : await localAdmin(flags, env);
    try {
      if (action === 'rebuild') {
        const r = await admin.rebuild();
        console.log(
          `leases rebuilt: ${r.leases} launched desktop(s) leased (${r.written} written), ${r.removed} stale lease(s) removed, ${r.accounts} account verifier(s), ${r.agentKeys} agent key(s) mirrored`,
        );
        return 0;
      }
      if (action === 'remove') {
        const removed = await admin.remove(filter);
        console.log(`${removed} lease(s) removed`);
        return 0;
      }
      let cursor: string | undefined;
      let shown = 0;
      do {
        const page = await admin.list({ ...filter, state }, cursor);
        for (const l of page.leases) {
          shown++;
          console.log(
            `${l.user.padEnd(20)} ${`${l.desktopName} (${l.desktopId})`.padEnd(26)} ${l.launch.protocol.padEnd(6)} last launch ${l.lastLaunchAt}  expires ${l.expiresAt}${l.state === 'expired' ? '  (expired)' : ''}`,
          );
        }
        cursor = page.next;
      } while (cursor);
      if (shown === 0) console.log('no leases');
      return 0;
    } finally {
      await admin.close();
    }
  },
};
