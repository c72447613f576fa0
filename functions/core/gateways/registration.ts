/**
 * Gateways that register themselves (autoscaled Fargate tasks, or any gateway started with
 * BROKER_URL): a registration lives in the state table for {@link MISSED_RENEWALS} renewal
 * periods; a gateway that stops renewing drops out then, one that stops cleanly deregisters
 * at once. A gateway cluster with a `tag` has every live registered gateway with that tag as
 * a member, beside its fixed `members`. Renewals carry the gateway's counters, which become
 * the gateway metrics.
 */
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics/ports.ts';
import type { GatewayClusterConfig, GatewayConfig, SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';
import type { GatewayRegistry, RegisteredGateway } from './ports.ts';
import type { RegistrationRequest } from './registration-contract.ts';

/** Renewal periods a registration outlives before it is dropped. */
export const MISSED_RENEWALS = 3;

/** How long an expired registration is still listed (as expired) before it is forgotten. */
export const EXPIRED_LISTED_MS = 3_600_000;

const lower = (s: string) => s.toLowerCase();

/** Whether a registration is live at `now`. */
export const isLive = (g: RegisteredGateway, now: number) => g.expiresAt > now;

/** A gateway a forward can be opened on: fixed (site configuration) or registered. */
export interface RoutableGateway {
  readonly name: string;
  readonly publicAddress: string;
  readonly controlUrl: string;
  /** Its id in the site database for a fixed gateway; null for a registered one. */
  readonly gatewayId: number | null;
  /** Its public HTTP face for browsers (HTML5 display): `webUrl` of a fixed gateway. */
  readonly webUrl?: string;
}

/**
 * The registration that a request makes at `now`. The public address is the one the gateway
 * gives, else `sourceAddress` (where the load balancer saw the call come from).
 */
export function registrationOf(
  request: RegistrationRequest,
  sourceAddress: string,
  now: number,
  previous: RegisteredGateway | undefined,
): RegisteredGateway {
  return {
    name: request.name,
    address: request.address ?? sourceAddress,
    publicAddress: request.publicAddress ?? sourceAddress,
    controlUrl: request.controlUrl.replace(/\/+$/, ''),
    portRange: request.portRange,
    version: request.version,
    tags: [...new Set(request.tags.map(lower))],
    renewSeconds: request.renewSeconds,
    capacity: request.capacity,
    stats: request.stats,
    registeredAt: previous && isLive(previous, now) ? previous.registeredAt : now,
    renewedAt: now,
    expiresAt: now + MISSED_RENEWALS * request.renewSeconds * 1000,
  };
}

export interface RegistrationDeps {
  readonly registry: GatewayRegistry;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/**
 * Registers or renews a gateway, and records its counters as metrics: its forwards and
 * connections as they are now, the bytes it forwarded since the last renewal.
 */
export async function registerGateway(
  deps: RegistrationDeps,
  request: RegistrationRequest,
  sourceAddress: string,
): Promise<RegisteredGateway> {
  const now = deps.clock.now();
  const previous = await deps.registry.get(request.name);
  const registration = registrationOf(request, sourceAddress, now, previous);
  await deps.registry.put(registration);
  const renewed = previous !== undefined && isLive(previous, now);
  const gateway = registration.name;
  const { metrics } = deps;
  metrics.count('gatewayRegistrations', { event: renewed ? 'renewed' : 'registered' });
  metrics.gauge('gatewayForwards', request.stats.forwards, { gateway });
  metrics.gauge('gatewayConnections', request.stats.connections, { gateway });
  // Counters restart with the gateway: a smaller figure than last time is all new bytes.
  const since = (now: number, before: number | undefined) =>
    before !== undefined && now >= before ? now - before : now;
  metrics.count(
    'gatewayBytes',
    { gateway, direction: 'to_desktops' },
    since(request.stats.bytesFromClients, previous?.stats.bytesFromClients),
  );
  metrics.count(
    'gatewayBytes',
    { gateway, direction: 'to_clients' },
    since(request.stats.bytesToClients, previous?.stats.bytesToClients),
  );
  return registration;
}

/** Removes a gateway's registration (its clean stop). Resolves false when there was none. */
export async function deregisterGateway(deps: RegistrationDeps, name: string): Promise<boolean> {
  const removed = await deps.registry.remove(name);
  if (removed) deps.metrics.count('gatewayRegistrations', { event: 'deregistered' });
  return removed;
}

const fixed = (g: GatewayConfig, ids: ReadonlyMap<string, number>): RoutableGateway => ({
  name: g.name,
  publicAddress: g.publicAddress,
  controlUrl: g.controlUrl,
  gatewayId: ids.get(lower(g.name)) ?? null,
  ...(g.webUrl ? { webUrl: g.webUrl } : {}),
});

const registered = (g: RegisteredGateway): RoutableGateway => ({
  name: g.name,
  publicAddress: g.publicAddress,
  controlUrl: g.controlUrl,
  gatewayId: null,
});

/**
 * The members of a cluster: its fixed members in their order, then every live registered
 * gateway with its tag (by name). A registered gateway named like a fixed one is that fixed
 * gateway: the site configuration wins.
 */
export function clusterMembers(
  config: SiteConfig,
  cluster: GatewayClusterConfig,
  gatewayIds: ReadonlyMap<string, number>,
  live: readonly RegisteredGateway[],
): RoutableGateway[] {
  const members = cluster.members
    .map((m) => byName(config.gateways, m))
    .filter((g): g is GatewayConfig => g !== undefined)
    .map((g) => fixed(g, gatewayIds));
  if (cluster.tag === undefined) return members;
  const taken = new Set(members.map((m) => lower(m.name)));
  const tag = lower(cluster.tag);
  for (const g of [...live].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!g.tags.includes(tag) || taken.has(lower(g.name))) continue;
    const configured = byName(config.gateways, g.name);
    members.push(configured ? fixed(configured, gatewayIds) : registered(g));
    taken.add(lower(g.name));
  }
  return members;
}

/** The fixed gateway named `name` as a routable gateway, if the site configuration has it. */
export function fixedGateway(
  config: SiteConfig,
  name: string,
  gatewayIds: ReadonlyMap<string, number>,
): RoutableGateway | undefined {
  const g = byName(config.gateways, name);
  return g ? fixed(g, gatewayIds) : undefined;
}

/** A registered gateway as a routable one. */
export const routableRegistered = registered;
