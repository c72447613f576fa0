/**
 * The administrator's gateway list: the gateways of the site configuration (a page at a
 * time, with the check_gateway verdict and since when) and, on the first page, the gateways
 * that registered themselves (live, or dropped within the hour after missed renewals) with
 * their last renewal. Both with the forwards the broker holds open on them and their clusters.
 */
import type { Clock } from '../clock.ts';
import type { GatewayRegistry, RegisteredGateway } from '../gateways/ports.ts';
import { isLive } from '../gateways/registration.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { ActivityViews, AdminGateway, PageRequest } from './ports.ts';

export interface AdminGatewayDeps {
  readonly views: Pick<ActivityViews, 'gateways' | 'forwardsOnRegistered'>;
  readonly registry: Pick<GatewayRegistry, 'listRegistered'>;
  readonly snapshot: SiteSnapshotSource;
  readonly clock: Clock;
}

export interface ListedRegistration extends RegisteredGateway {
  readonly live: boolean;
  readonly forwardsOpen: number;
  /** The clusters whose tag it carries. */
  readonly clusters: readonly string[];
}

export async function listGateways(
  deps: AdminGatewayDeps,
  page: PageRequest<string>,
): Promise<{
  configured: readonly AdminGateway[];
  registered: readonly ListedRegistration[];
  next: string | undefined;
}> {
  const now = deps.clock.now();
  const firstPage = page.after === undefined;
  const [configured, registrations, { config }] = await Promise.all([
    deps.views.gateways(page, now),
    firstPage ? deps.registry.listRegistered(now) : Promise.resolve([]),
    deps.snapshot.get(),
  ]);
  const forwards = await deps.views.forwardsOnRegistered(
    registrations.map((r) => r.name),
    now,
  );
  const registered = registrations.map((r) => ({
    ...r,
    live: isLive(r, now),
    forwardsOpen: forwards.get(r.name.toLowerCase()) ?? 0,
    clusters: config.gatewayClusters
      .filter((c) => c.tag !== undefined && r.tags.includes(c.tag.toLowerCase()))
      .map((c) => c.name),
  }));
  return { configured: configured.items, registered, next: configured.next };
}
