/**
 * The gateways a protocol plan's `gateway` names, for a forward or a browser: one gateway, or
 * a cluster's members (fixed members, then live registered gateways with its tag), and how
 * much each carries.
 */
import { ServiceUnavailableError } from '../errors.ts';
import type { GatewayClusterConfig } from '../site-config/schema.ts';
import type { SiteSnapshot } from '../site-config/snapshot.ts';
import { byName } from '../site-config/snapshot.ts';
import type { GatewayControl, GatewayEndpoint, RegisteredGateway } from './ports.ts';
import { clusterMembers, fixedGateway, type RoutableGateway } from './registration.ts';

/** How the broker reaches a gateway's control API. */
export const endpoint = (g: RoutableGateway): GatewayEndpoint => ({
  name: g.name,
  controlUrl: g.controlUrl,
});

/**
 * The gateway `target` names, or its cluster with the members. `live` gives the live
 * registrations, asked only for a cluster with a tag.
 * @throws {ServiceUnavailableError} `gateway_unavailable` when it resolves to no gateway.
 */
export async function resolveTarget(
  snapshot: SiteSnapshot,
  target: string,
  live: () => Promise<RegisteredGateway[]>,
): Promise<{
  cluster?: GatewayClusterConfig;
  members: RoutableGateway[];
  /** The live registrations, when the cluster has a tag. */
  live?: RegisteredGateway[];
}> {
  const { config } = snapshot;
  const single = fixedGateway(config, target, snapshot.gatewayIds);
  const cluster = single ? undefined : byName(config.gatewayClusters, target);
  const registered = cluster?.tag !== undefined ? await live() : undefined;
  const members = single
    ? [single]
    : cluster
      ? clusterMembers(config, cluster, snapshot.gatewayIds, registered ?? [])
      : [];
  if (members.length === 0) {
    throw new ServiceUnavailableError(
      'gateway_unavailable',
      cluster?.tag !== undefined
        ? `gateway cluster "${target}" has no live member (no registered gateway with tag "${cluster.tag}")`
        : `gateway "${target}" has no members`,
    );
  }
  return { cluster, members, ...(registered ? { live: registered } : {}) };
}

/**
 * What a gateway carries: open forwards plus HTML5 connections (the `fewest` mode's measure);
 * infinity when it does not answer.
 */
export function gatewayLoad(control: GatewayControl, gateway: RoutableGateway): Promise<number> {
  return control.info(endpoint(gateway)).then(
    (i) => i.forwards + (i.html5?.connections ?? 0),
    () => Number.POSITIVE_INFINITY,
  );
}
