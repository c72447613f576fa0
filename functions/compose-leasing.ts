/**
 * The leasing part of the composition (compose/desktops.ts): leases, the leased-mode mirror,
 * the outbox and its replay, the circuit breaker, leased-mode gateway forwards, and the job
 * bodies that keep it all up to date. What runs outside the request path (the upkeep: the
 * outbox replay after an outage, mirroring the site, rebuilding leases, the `lease_upkeep`
 * job, with their site-database queries) loads on first use.
 */
import type { Logger } from './adapters/logger.ts';
import { type SiteDb, withStatementDeadline } from './adapters/site-db/connect.ts';
import { DynamoLeaseStore } from './adapters/state/lease-store.ts';
import { LeasedForwardStore } from './adapters/state/leased-forward-store.ts';
import type { DynamoMirrorStore } from './adapters/state/mirror-store.ts';
import { DynamoOutbox } from './adapters/state/outbox-store.ts';
import type { StateTable } from './adapters/state/state-table.ts';
import type { Clock } from './core/clock.ts';
import type {
  ForwardRecord,
  GatewayControl,
  GatewayRegistry,
  Html5SessionStore,
} from './core/gateways/ports.ts';
import { createGatewayRouter } from './core/gateways/routing.ts';
import { CircuitBreaker } from './core/leasing/circuit-breaker.ts';
import type { LeasingDeps } from './core/leasing/leased-mode.ts';
import type { Outbox } from './core/leasing/ports.ts';
import type { RebuildResult, UpkeepDeps } from './core/leasing/upkeep.ts';
import type { Metrics } from './core/metrics/ports.ts';
import type { SiteSnapshotSource } from './core/site-config/ports.ts';
import type { SiteConfig } from './core/site-config/schema.ts';

/** Consecutive database failures that open the breaker. */
export const BREAKER_FAILURES = 2;
/** While open, one request a second probes the database. */
export const BREAKER_PROBE_MS = 1000;
/** A replay that failed (the database went again) is retried after this long. */
export const REPLAY_RETRY_MS = 2000;

export interface BrokerLeasing extends LeasingDeps {
  /** What the upkeep works with (its site-database queries load on first use). */
  upkeep(): Promise<UpkeepDeps>;
  /** Replays the outbox now (one replay at a time per process). */
  replay(): Promise<void>;
  /** Writes what leased mode needs into the state table now (the site copy, verifiers, keys). */
  syncMirror(): Promise<void>;
  /** Rebuilds the leases from the site database (`deskbroker leases rebuild`, the admin API). */
  rebuild(): Promise<RebuildResult>;
  /** The `lease_upkeep` job: replay, lease extensions, old replay markers purged. */
  upkeepJob(): Promise<void>;
  /** Forwards opened in leased mode for one gateway (a restarting gateway re-opens them). */
  leasedForwards(gateway: string, now: number): Promise<ForwardRecord[]>;
  /** After an apply: mirrors accounts, agent keys and the site copy; forgets removed ones. */
  afterApply(before: SiteConfig, after: SiteConfig): Promise<void>;
}

export function composeLeasing(deps: {
  readonly state: StateTable;
  readonly db: SiteDb;
  readonly siteId: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly snapshot: SiteSnapshotSource;
  /** The configuration as leased mode reads it: never from the database. */
  readonly leasedSnapshot: SiteSnapshotSource;
  readonly mirror: DynamoMirrorStore;
  readonly gatewayControl: GatewayControl | undefined;
  readonly html5: Html5SessionStore;
  readonly gatewayRegistry: GatewayRegistry;
  /** Per-statement limit on the request path (DB_REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
  readonly metrics: Metrics;
}): BrokerLeasing {
  const { state, clock, logger, snapshot, mirror, metrics } = deps;
  const stored = new DynamoOutbox(state);
  // Set when this broker put something in the outbox: the next request the database serves
  // starts a replay (even when too few requests failed to open the breaker).
  let dirty = false;
  const outbox: Outbox = {
    append: async (items) => {
      dirty = true;
      await stored.append(items);
      metrics.count('outboxAppended', {}, items.length);
    },
    pending: (limit) => stored.pending(limit),
    remove: (ids) => stored.remove(ids),
    depth: () => stored.depth(),
  };
  const leases = new DynamoLeaseStore(state);
  const breaker = new CircuitBreaker(clock, {
    failureThreshold: BREAKER_FAILURES,
    probeIntervalMs: BREAKER_PROBE_MS,
  });
  const leasedForwardStore = new LeasedForwardStore(state, outbox, () => clock.now());
  const leasedGateways = createGatewayRouter({
    snapshot: deps.leasedSnapshot,
    control: deps.gatewayControl,
    forwards: leasedForwardStore,
    html5: deps.html5,
    registry: deps.gatewayRegistry,
    now: () => clock.now(),
    warn: (message, details) => logger.warn(message, details),
  });
  let upkeepDeps: Promise<UpkeepDeps> | undefined;
  const upkeep = (): Promise<UpkeepDeps> => {
    upkeepDeps ??= Promise.all([
      import('./adapters/site-db/leasing-queries.ts'),
      import('./adapters/site-db/outbox-replayer.ts'),
    ]).then(([queries, replayer]) => ({
      snapshot,
      source: new queries.SqlLeasingQueries(deps.db),
      leases,
      mirror,
      outbox,
      replayer: new replayer.SqlOutboxReplayer(deps.db, deps.siteId),
      clock,
      metrics,
    }));
    return upkeepDeps;
  };
  const upkeepModule = () => import('./core/leasing/upkeep.ts');
  let replaying: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  const replay = (): Promise<void> => {
    clearTimeout(retry);
    replaying ??= Promise.all([upkeepModule(), upkeep()])
      .then(([m, u]) => m.replayOutbox(u))
      .then(({ applied, duplicates }) => {
        if (applied + duplicates > 0) logger.info('outbox replayed', { applied, duplicates });
      })
      .catch((e: unknown) => {
        logger.warn('outbox replay stopped; trying again shortly', { error: (e as Error).message });
        // Again in a few seconds (the lease_upkeep job is the backstop where timers do not run).
        retry = setTimeout(() => void replay(), REPLAY_RETRY_MS);
        retry.unref();
      })
      .finally(() => {
        replaying = undefined;
      });
    return replaying;
  };
  breaker.onSuccess(() => {
    if (!dirty) return;
    dirty = false;
    void replay();
  });
  breaker.onChange((s) => {
    logger.warn(
      s === 'open' ? 'site database down: leased mode' : 'site database back: normal mode',
    );
    if (s === 'closed') void replay();
  });
  return {
    breaker,
    snapshot: deps.leasedSnapshot,
    leases,
    mirror,
    outbox,
    leasedGateways,
    withDeadline: (fn) => withStatementDeadline(deps.requestTimeoutMs, fn),
    metrics,
    upkeep,
    replay,
    async syncMirror() {
      await (await upkeepModule()).syncMirror(await upkeep());
    },
    rebuild: async () => (await upkeepModule()).rebuildLeases(await upkeep()),
    async upkeepJob() {
      const u = await upkeep();
      await (await upkeepModule()).leaseUpkeep(u);
      await u.replayer.purgeMarkers(clock.now());
    },
    leasedForwards: (gateway, now) => leasedForwardStore.liveForGateway(gateway, now),
    async afterApply(before, after) {
      try {
        await mirrorChanges(before, after);
      } catch (e: unknown) {
        // The site is changed already; the mirror catches up at the next apply or rebuild.
        logger.warn(
          'could not mirror the configuration for leased mode; run `deskbroker leases rebuild`',
          {
            error: (e as Error).message,
          },
        );
      }
    },
  };

  async function mirrorChanges(before: SiteConfig, after: SiteConfig): Promise<void> {
    const keep = new Set(after.users.map((u) => `${u.authServer}#${u.name}`.toLowerCase()));
    const keys = new Set(after.pools.flatMap((p) => p.desktops.map((d) => d.agentKeyHash)));
    await (await upkeepModule()).syncMirror(await upkeep(), {
      accounts: before.users
        .filter((u) => !keep.has(`${u.authServer}#${u.name}`.toLowerCase()))
        .map((u) => ({ name: u.name, authServer: u.authServer ?? null })),
      agentKeys: before.pools
        .flatMap((p) => p.desktops.map((d) => d.agentKeyHash))
        .filter((h): h is string => h !== undefined && !keys.has(h)),
    });
  }
}

/** The job body leasing needs (lease_upkeep). */
export function leasingJobBodies(leasing: BrokerLeasing) {
  return { lease_upkeep: () => leasing.upkeepJob() };
}
