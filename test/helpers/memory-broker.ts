/**
 * The core use cases wired to in-memory ports (memory-site.ts, memory-login.ts, memory-leasing.ts, memory-gateways.ts): what
 * compose.ts does for a broker, without a database, a state table or gateways, so unit tests
 * can drive login, connect, release, agent events, gateway routing and job bodies directly.
 */

import type { AgentDeps } from '../../functions/core/agents/events.ts';
import type { DesktopDeps } from '../../functions/core/desktops/desktops.ts';
import { createGatewayRouter } from '../../functions/core/gateways/routing.ts';
import { CircuitBreaker } from '../../functions/core/leasing/circuit-breaker.ts';
import type { LeasingDeps } from '../../functions/core/leasing/leased-mode.ts';
import type { LoginDeps } from '../../functions/core/login/login.ts';
import type { LocalAccount } from '../../functions/core/login/ports.ts';
import type { SiteConfigInput } from '../../functions/core/site-config/schema.ts';
import { frozenClock } from './clock.ts';
import {
  MemoryForwardStore,
  MemoryGatewayControl,
  MemoryGatewayRegistry,
} from './memory-gateways.ts';
import { MemoryLeaseStore, MemoryMirror, MemoryOutbox } from './memory-leasing.ts';
import {
  MemoryAccountStore,
  MemoryDirectory,
  MemorySessionStore,
  MemoryThrottleStore,
  plainHasher,
} from './memory-login.ts';
import { RecordingMetrics } from './memory-metrics.ts';
import { type MemorySite, memorySite } from './memory-site.ts';

export interface MemoryBroker {
  readonly clock: ReturnType<typeof frozenClock>;
  readonly site: MemorySite;
  readonly leases: MemoryLeaseStore;
  readonly outbox: MemoryOutbox;
  readonly mirror: MemoryMirror;
  readonly sessions: MemorySessionStore;
  readonly throttle: MemoryThrottleStore;
  readonly accounts: MemoryAccountStore;
  readonly directory: MemoryDirectory;
  readonly forwards: MemoryForwardStore;
  /** Forwards opened in leased mode. */
  readonly leasedForwards: MemoryForwardStore;
  readonly control: MemoryGatewayControl;
  /** Gateways that registered themselves. */
  readonly registry: MemoryGatewayRegistry;
  /** What the use cases recorded. */
  readonly metrics: RecordingMetrics;
  readonly breaker: CircuitBreaker;
  /** Addresses the reachability probe says are down. */
  readonly unreachable: Set<string>;
  readonly leasing: LeasingDeps;
  readonly desktopDeps: DesktopDeps;
  readonly loginDeps: LoginDeps;
  readonly agentDeps: AgentDeps;
  /** Gateway warnings (a forward a gateway did not close). */
  readonly warnings: string[];
}

/**
 * A broker over in-memory ports for the site `document`. Local accounts come from
 * `accounts` (passwords plain-hashed, see `MemoryAccountStore.account`).
 */
export function memoryBroker(
  document: SiteConfigInput,
  options: { accounts?: LocalAccount[]; failureFloorMs?: number } = {},
): MemoryBroker {
  const clock = frozenClock();
  const site = memorySite(document, clock);
  const leases = new MemoryLeaseStore();
  const outbox = new MemoryOutbox();
  const mirror = new MemoryMirror();
  const sessions = new MemorySessionStore({ idleMinutes: 60, maxHours: 12 }, clock);
  const throttle = new MemoryThrottleStore();
  const accounts = new MemoryAccountStore(options.accounts);
  const directory = new MemoryDirectory();
  const forwards = new MemoryForwardStore();
  const leasedForwards = new MemoryForwardStore();
  const control = new MemoryGatewayControl();
  const registry = new MemoryGatewayRegistry();
  const metrics = new RecordingMetrics();
  const breaker = new CircuitBreaker(clock, { failureThreshold: 2, probeIntervalMs: 1000 });
  const unreachable = new Set<string>();
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
  };
  const router = (store: MemoryForwardStore) =>
    createGatewayRouter({
      snapshot: site.snapshot,
      control,
      forwards: store,
      registry,
      now: () => clock.now(),
      warn,
    });
  const leasing: LeasingDeps = {
    breaker,
    // In memory nothing hangs: leased mode reads the same snapshot.
    snapshot: site.snapshot,
    leases,
    mirror,
    outbox,
    leasedGateways: router(leasedForwards),
    withDeadline: (fn) => fn(),
    metrics,
  };
  const desktopDeps: DesktopDeps = {
    clock,
    leasing,
    snapshot: site.snapshot,
    desktops: site.desktops,
    probe: async (address) => !unreachable.has(address),
    gateways: router(forwards),
    metrics,
  };
  const loginDeps: LoginDeps = {
    ...desktopDeps,
    sessions,
    limits: { idleMinutes: 60, maxHours: 12 },
    accounts,
    hasher: plainHasher,
    directory,
    throttle,
    throttleLimits: { maxFailures: 3, lockoutSeconds: 60 },
    // Secrets are kept clear here; the box returns a value that is not sealed as it is.
    secrets: { open: async (value) => value },
    failureFloorMs: options.failureFloorMs ?? 0,
  };
  const agentDeps: AgentDeps = {
    agents: site.agents,
    gateways: desktopDeps.gateways,
    clock,
    snapshot: site.snapshot,
    leasing,
    extended: new Map(),
  };
  return {
    clock,
    site,
    leases,
    outbox,
    mirror,
    sessions,
    throttle,
    accounts,
    directory,
    forwards,
    leasedForwards,
    control,
    registry,
    metrics,
    breaker,
    unreachable,
    leasing,
    desktopDeps,
    loginDeps,
    agentDeps,
    warnings,
  };
}
