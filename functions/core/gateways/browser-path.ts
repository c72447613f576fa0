/**
 * Which gateway bridges a desktop shown in the browser, by the protocol plan's gateway or
 * cluster and the cluster's mode, as for TCP forwards:
 * - `all`: the cluster's load balancer (`webUrl`); any member redeems the ticket;
 * - `login`: the gateway that forwarded the user's login;
 * - `fewest`: the member carrying the fewest forwards and HTML5 connections;
 * - a single gateway: that one.
 * Members are a cluster's fixed gateways and its tag's live registered ones; a member without a
 * `webUrl` (a registered gateway says none) is not offered to browsers: such gateways serve
 * browsers through a cluster in mode `all`, whose load balancer is the `webUrl`.
 * Outside `all`, a gateway that does not answer its control API is skipped (or, alone, is a
 * 503), so the browser is not sent to a dead gateway.
 */
import { ConflictError, GatewayUnavailableError, ServiceUnavailableError } from '../errors.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';
import { HTML5_PATH } from './html5-ticket.ts';
import type { BrowserPath, GatewayControl, RegisteredGateway } from './ports.ts';
import { gatewayLoad, resolveTarget } from './targets.ts';

/** The bridge's WebSocket URL behind a gateway's public web URL (`https:` → `wss:`). */
export function webSocketUrl(webUrl: string): string {
  const url = new URL(webUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${HTML5_PATH}`;
  return url.toString();
}

/**
 * Whether browsers can reach the gateway or cluster `target` names, by the site configuration
 * alone (what the offer list says): a gateway with a `webUrl`; a cluster in mode `all` with
 * one; another cluster with a fixed member that has one.
 */
export function servesBrowsers(config: SiteConfig, target: string): boolean {
  const single = byName(config.gateways, target);
  if (single) return single.webUrl !== undefined;
  const cluster = byName(config.gatewayClusters, target);
  if (!cluster) return false;
  if (cluster.mode === 'all') return cluster.webUrl !== undefined;
  return cluster.members.some((m) => byName(config.gateways, m)?.webUrl !== undefined);
}

const noWebUrl = (name: string) =>
  new ConflictError(
    'browser_display_unavailable',
    `gateway "${name}" has no webUrl in the site configuration, so desktops cannot be shown in the browser through it; use the launch file`,
  );

/**
 * @throws {ConflictError} `browser_needs_gateway` for a direct protocol,
 *   `browser_display_unavailable` when the gateway has no `webUrl`.
 * @throws {ServiceUnavailableError} `gateway_not_configured`, `login_gateway_unknown`;
 *   {@link GatewayUnavailableError} when no candidate gateway answers.
 */
export async function chooseBrowserPath(
  deps: {
    snapshot: SiteSnapshotSource;
    control: GatewayControl | undefined;
    /** The live registrations (asked only for a cluster with a tag). */
    live: () => Promise<RegisteredGateway[]>;
  },
  target: string | undefined,
  loginGateway: string | null,
): Promise<BrowserPath> {
  if (target === undefined) {
    throw new ConflictError(
      'browser_needs_gateway',
      'this desktop is reached directly, not through a gateway, so it cannot be shown in the browser; use the launch file',
    );
  }
  const control = deps.control;
  if (!control) {
    throw new ServiceUnavailableError(
      'gateway_not_configured',
      'this broker has no gateway secret (GATEWAY_SECRET)',
    );
  }
  const { cluster, members } = await resolveTarget(await deps.snapshot.get(), target, deps.live);
  if (cluster?.mode === 'all') {
    if (!cluster.webUrl) throw noWebUrl(cluster.name);
    return { gateway: cluster.name, url: webSocketUrl(cluster.webUrl) };
  }
  let candidates = members;
  if (cluster?.mode === 'login') {
    const login = members.find((g) => g.name.toLowerCase() === loginGateway?.toLowerCase());
    if (!login) {
      throw new ServiceUnavailableError(
        'login_gateway_unknown',
        `gateway cluster "${cluster.name}" uses the login gateway, but this login did not come through one of its gateways`,
      );
    }
    candidates = [login];
  }
  const withUrl = candidates.filter((g) => g.webUrl);
  if (withUrl.length === 0) throw noWebUrl(candidates[0]!.name);
  const loads = await Promise.all(withUrl.map((g) => gatewayLoad(control, g)));
  const order = withUrl
    .map((g, i) => ({ g, load: loads[i]! }))
    .filter((x) => Number.isFinite(x.load));
  if (cluster?.mode === 'fewest') order.sort((a, b) => a.load - b.load);
  const chosen = order[0]?.g;
  if (!chosen) throw new GatewayUnavailableError(withUrl[0]!.name);
  return { gateway: chosen.name, url: webSocketUrl(chosen.webUrl!) };
}
