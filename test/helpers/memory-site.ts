/**
 * An in-memory site for unit tests of the core use cases: the desktops, agents, log and
 * configuration snapshot of one site configuration, behind the same ports the SQL adapters
 * implement (DesktopStore, AgentStore, SiteSnapshotSource), with the same rules: the atomic
 * claim of one desktop, release rules, agent session states. Reusable: build one with
 * {@link memorySite} from a configuration document.
 */
import { hashAgentKey } from '../../functions/core/agents/keys.ts';
import type {
  AgentDesktop,
  AgentEventKind,
  AgentEventResult,
  AgentStore,
} from '../../functions/core/agents/ports.ts';
import type { Clock } from '../../functions/core/clock.ts';
import type { DesktopRecord } from '../../functions/core/desktops/offers.ts';
import type {
  ClaimRequest,
  DesktopStore,
  LogEntry,
  LoginRecord,
  OfferQuery,
} from '../../functions/core/desktops/ports.ts';
import type { SiteSnapshotSource } from '../../functions/core/site-config/ports.ts';
import {
  type SiteConfig,
  type SiteConfigInput,
  siteConfigSchema,
} from '../../functions/core/site-config/schema.ts';
import type { SiteSnapshot } from '../../functions/core/site-config/snapshot.ts';

/** A desktop row as the site database keeps it. */
export interface MemoryDesktop {
  id: number;
  name: string;
  poolId: number;
  address: string;
  ports: Readonly<Partial<Record<string, number>>>;
  assignedUser: string | null;
  heldBy: string | null;
  heldAt: number | null;
  heldRelease: 'on_logout' | 'on_disconnect' | 'never' | null;
  heldReleaseDelay: number | null;
  releaseAfter: number | null;
  sessionState: 'none' | 'connected' | 'disconnected';
  sessionUser: string | null;
  agentKeyHash: string | null;
  agentSeenAt: number | null;
  available: boolean;
}

/** A log row, with the time it was written. */
export interface MemoryLogRow extends LogEntry {
  readonly at: number;
}

export interface MemorySite {
  readonly config: SiteConfig;
  readonly snapshot: SiteSnapshotSource & { readonly current: SiteSnapshot };
  readonly desktops: DesktopStore;
  readonly agents: AgentStore;
  /** Every desktop, by id. */
  readonly rows: Map<number, MemoryDesktop>;
  readonly log: MemoryLogRow[];
  /** Registered clients by `name|ip`. */
  readonly clients: Map<string, LoginRecord['client'] & { id: number }>;
  /** The desktop of that name. @throws when there is none. */
  desktop(name: string): MemoryDesktop;
  /** Makes the next statement (of any store) fail with `error`, as a database outage would. */
  failNext(error: Error, times?: number): void;
}

const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();

const record = (d: MemoryDesktop): DesktopRecord => ({
  id: d.id,
  name: d.name,
  poolId: d.poolId,
  address: d.address,
  ports: d.ports,
  assignedUser: d.assignedUser,
  heldBy: d.heldBy,
  sessionState: d.sessionState,
});

const agentDesktop = (d: MemoryDesktop): AgentDesktop => ({
  id: d.id,
  name: d.name,
  address: d.address,
  heldBy: d.heldBy,
  assignedUser: d.assignedUser,
});

/** Builds an in-memory site from a configuration document (defaults filled, agent keys hashed). */
export function memorySite(document: SiteConfigInput, clock: Clock): MemorySite {
  const config = siteConfigSchema.parse(document);
  const poolIds = new Map(config.pools.map((p, i) => [p.name.toLowerCase(), i + 1]));
  const gatewayIds = new Map(config.gateways.map((g, i) => [g.name.toLowerCase(), i + 1]));
  const current: SiteSnapshot = {
    config,
    poolIds,
    poolNames: new Map(config.pools.map((p, i) => [i + 1, p.name])),
    gatewayIds,
    loadedAt: clock.now(),
  };
  const rows = new Map<number, MemoryDesktop>();
  let nextId = 1;
  for (const pool of config.pools) {
    for (const d of pool.desktops) {
      const id = nextId++;
      rows.set(id, {
        id,
        name: d.name,
        poolId: poolIds.get(pool.name.toLowerCase())!,
        address: d.address,
        ports: d.ports ?? {},
        assignedUser: d.assignedTo ?? null,
        heldBy: null,
        heldAt: null,
        heldRelease: null,
        heldReleaseDelay: null,
        releaseAfter: null,
        sessionState: 'none',
        sessionUser: null,
        agentKeyHash: d.agentKey ? hashAgentKey(d.agentKey) : (d.agentKeyHash ?? null),
        agentSeenAt: null,
        available: true,
      });
    }
  }
  const log: MemoryLogRow[] = [];
  const clients = new Map<string, LoginRecord['client'] & { id: number }>();
  const failures: Error[] = [];
  /** Every statement passes here: a queued failure is thrown instead. */
  const statement = async () => {
    const error = failures.shift();
    if (error) throw error;
  };
  const write = (entries: readonly LogEntry[]) => {
    for (const e of entries) log.push({ ...e, at: clock.now() });
  };
  const clear = (d: MemoryDesktop) => {
    Object.assign(d, {
      heldBy: null,
      heldAt: null,
      heldRelease: null,
      heldReleaseDelay: null,
      releaseAfter: null,
    });
  };
  const live = () => [...rows.values()].sort((a, b) => a.id - b.id);

  const candidates = (q: OfferQuery): DesktopRecord[] => {
    const own = live().filter((d) => same(d.assignedUser, q.user) || same(d.heldBy, q.user));
    const free = q.poolIds.flatMap((pool) =>
      live()
        .filter((d) => d.poolId === pool && !d.heldBy && !d.assignedUser && d.available)
        .slice(0, q.perPool),
    );
    return [...own, ...free].map(record);
  };

  const desktops: DesktopStore = {
    async recordLogin(r: LoginRecord, q: OfferQuery) {
      await statement();
      const key = `${r.client.name}|${r.client.ip}`;
      const id = clients.get(key)?.id ?? clients.size + 1;
      clients.set(key, { ...r.client, id });
      write([{ event: 'login', user: r.user, clientIp: r.client.ip, detail: r.detail }]);
      return { clientId: id, desktops: candidates(q) };
    },
    async offerCandidates(q) {
      await statement();
      return candidates(q);
    },
    async claim(r: ClaimRequest) {
      await statement();
      const asked = rows.get(r.desktopId);
      const wantedPool = asked && asked.assignedUser === null ? asked.poolId : undefined;
      const target = live()
        .sort((a, b) => Number(b.id === r.desktopId) - Number(a.id === r.desktopId))
        .find(
          (d) =>
            (d.id === r.desktopId &&
              (same(d.assignedUser, r.user) || same(d.heldBy, r.user)) &&
              (r.claimablePoolIds.includes(d.poolId) ||
                (r.otherPoolsClaimable && !r.policyPoolIds.includes(d.poolId)))) ||
            (!d.heldBy &&
              !d.assignedUser &&
              d.available &&
              r.claimablePoolIds.includes(d.poolId) &&
              d.poolId === wantedPool),
        );
      if (!target) return undefined;
      const rule = r.releaseRules.get(target.poolId);
      Object.assign(target, {
        heldBy: r.user,
        heldAt: clock.now(),
        heldRelease: rule?.release ?? 'on_logout',
        heldReleaseDelay: rule?.delaySeconds ?? 0,
        releaseAfter: null,
      });
      write([
        {
          event: 'connect',
          user: r.user,
          desktopId: target.id,
          clientIp: r.clientIp,
          detail: r.logDetails.get(target.poolId) ?? r.defaultDetail,
        },
      ]);
      return record(target);
    },
    async whyNotClaimed(r) {
      await statement();
      const d = rows.get(r.desktopId);
      if (!d) return 'unknown_desktop';
      const mine = same(d.assignedUser, r.user) || same(d.heldBy, r.user);
      if (d.assignedUser !== null && !same(d.assignedUser, r.user)) return 'not_yours';
      const inPolicy = r.policyPoolIds.includes(d.poolId);
      if (!mine && !inPolicy) return 'not_yours';
      const claimable =
        r.claimablePoolIds.includes(d.poolId) || (mine && !inPolicy && r.otherPoolsClaimable);
      return claimable ? 'pool_exhausted' : 'unsupported_protocol';
    },
    async release(user, desktopId, clientIp) {
      await statement();
      const d = rows.get(desktopId);
      if (!d || !same(d.heldBy, user)) return undefined;
      clear(d);
      write([{ event: 'release', user, desktopId, clientIp, detail: 'by user' }]);
      return record(d);
    },
    async releaseOnLogout(user, clientIp) {
      await statement();
      const released = live().filter(
        (d) => same(d.heldBy, user) && d.heldRelease === 'on_logout' && d.sessionState === 'none',
      );
      for (const d of released) {
        clear(d);
        write([{ event: 'release', user, desktopId: d.id, clientIp, detail: 'on logout' }]);
      }
      write([{ event: 'logout', user, clientIp }]);
      return released.map(record);
    },
    async releaseExpiredDisconnects(now) {
      await statement();
      const due = live().filter(
        (d) =>
          d.releaseAfter !== null &&
          d.releaseAfter <= now &&
          d.sessionState === 'disconnected' &&
          d.heldBy !== null,
      );
      return due.map((d) => {
        const holder = d.heldBy;
        clear(d);
        write([{ event: 'release', user: holder, desktopId: d.id, detail: 'disconnect timeout' }]);
        return { ...record(d), heldBy: holder };
      });
    },
    async appendLog(entries) {
      await statement();
      write(entries);
    },
  };

  const agents: AgentStore = {
    async desktopByAgentKey(keyHash) {
      await statement();
      const d = live().find((x) => x.agentKeyHash === keyHash);
      return d ? agentDesktop(d) : undefined;
    },
    async silentSince(cutoff) {
      await statement();
      return live()
        .filter((d) => d.sessionState === 'connected' && (d.agentSeenAt ?? 0) < cutoff)
        .map((d) => d.id);
    },
    async applyEvent(desktopId, event: AgentEventKind, user, now): Promise<AgentEventResult> {
      await statement();
      const d = rows.get(desktopId)!;
      const before = agentDesktop(d);
      const who = user ?? d.heldBy;
      let released: string | null = null;
      d.agentSeenAt = now;
      switch (event) {
        case 'heartbeat':
          d.available = true;
          return { desktop: before, released: null, sessionState: d.sessionState };
        case 'login':
          Object.assign(d, {
            sessionState: 'connected',
            sessionUser: who,
            available: true,
            releaseAfter: null,
            heldBy: d.heldBy ?? who,
            heldAt: d.heldAt ?? now,
          });
          break;
        case 'logout':
          d.sessionState = 'none';
          d.sessionUser = null;
          d.releaseAfter = null;
          if (d.heldRelease !== 'never') {
            released = d.heldBy;
            clear(d);
          }
          break;
        case 'disconnect': {
          d.sessionState = 'disconnected';
          const delayed = d.heldRelease === 'on_disconnect' && d.heldBy !== null;
          if (delayed && (d.heldReleaseDelay ?? 0) === 0) {
            released = d.heldBy;
            clear(d);
          } else {
            d.releaseAfter = delayed ? now + (d.heldReleaseDelay ?? 0) * 1000 : null;
          }
          break;
        }
        case 'reconnect':
          Object.assign(d, {
            sessionState: 'connected',
            sessionUser: d.sessionUser ?? who,
            available: true,
            releaseAfter: null,
          });
          break;
      }
      write([{ event: `agent_${event}`, user: who, desktopId }]);
      if (released) write([{ event: 'release', user: released, desktopId, detail: `on ${event}` }]);
      return { desktop: before, released, sessionState: d.sessionState };
    },
  };

  const snapshot = {
    current,
    // The snapshot is cached in a broker: reading it makes no statement.
    get: async () => current,
    invalidate() {},
  };

  return {
    config,
    snapshot,
    desktops,
    agents,
    rows,
    log,
    clients,
    desktop(name) {
      const d = live().find((x) => x.name === name);
      if (!d) throw new Error(`no desktop ${name}`);
      return d;
    },
    failNext(error, times = 1) {
      for (let i = 0; i < times; i++) failures.push(error);
    },
  };
}
