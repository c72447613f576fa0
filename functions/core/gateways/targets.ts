/** The gateways a protocol plan's `gateway` names: one gateway, or a cluster's members. */
import { ServiceUnavailableError } from '../errors.ts';
import type { GatewayClusterConfig, GatewayConfig, SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';
import type { GatewayControl, GatewayEndpoint } from './ports.ts';

/** How the broker reaches a configured gateway's control API. */
export const endpoint = (g: GatewayConfig): GatewayEndpoint => ({
  name: g.name,
  controlUrl: g.controlUrl,
});

/**
 * The gateway a plan names, or the members of the cluster it names (in their order), with
 * the cluster when the name is one.
 * @throws {ServiceUnavailableError} `gateway_unavailable` when the name resolves to no gateway.
 */
export function resolveTarget(
  config: SiteConfig,
  target: string,
): { cluster?: GatewayClusterConfig; members: GatewayConfig[] } {
  const single = byName(config.gateways, target);
  const cluster = byName(config.gatewayClusters, target);
  const members = single
    ? [single]
    : (cluster?.members
        .map((m) => byName(config.gateways, m))
        .filter((g): g is GatewayConfig => g !== undefined) ?? []);
  if (members.length === 0) {
    throw new ServiceUnavailableError('gateway_unavailable', `gateway "${target}" has no members`);
  }
  return { cluster, members };
}

/**
 * What a gateway carries: open forwards plus HTML5 connections (the `fewest` mode's measure);
 * infinity when it does not answer.
 */
export function gatewayLoad(control: GatewayControl, gateway: GatewayConfig): Promise<number> {
  return control.info(endpoint(gateway)).then(
    (i) => i.forwards + (i.html5?.connections ?? 0),
    () => Number.POSITIVE_INFINITY,
  );
}
