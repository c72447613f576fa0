/**
 * `/api/v1/admin/gateways`: the gateways of the site configuration with the check_gateway
 * job's verdict and since when, and the gateways that registered themselves with their last
 * renewal; each with the forwards the broker holds open on it and its clusters.
 */
import type { Broker } from '../../compose.ts';
import { listGateways } from '../../core/admin/gateways.ts';
import { gatewaysRoute } from '../api/admin/gateways.ts';
import { encodeCursor } from '../api/admin/paging.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const pair = (r: readonly [number, number]) => [r[0], r[1]] as [number, number];

export function gatewaysRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, gatewaysRoute, async ({ query }) => {
      const now = broker.clock.now();
      const list = await listGateways(
        {
          views: broker.admin.activity,
          registry: broker.gatewayRegistry,
          snapshot: broker.snapshot,
          clock: broker.clock,
        },
        { limit: query.limit, after: query.cursor },
      );
      return {
        checked: broker.gatewayControl !== undefined,
        nextCursor: list.next ? encodeCursor('gateways', list.next) : null,
        gateways: [
          ...list.configured.map((g) => ({
            source: 'configured' as const,
            ...g,
            portRange: pair(g.portRange),
            clusters: [...g.clusters],
            statusSince: isoOrNull(g.statusSince),
            checkedAt: isoOrNull(g.checkedAt),
            reported: g.reported && {
              version: g.reported.version,
              portRange: g.reported.portRange ? pair(g.reported.portRange) : null,
            },
          })),
          ...list.registered.map((g) => ({
            source: 'registered' as const,
            name: g.name,
            status: g.live ? ('live' as const) : ('dropped' as const),
            address: g.address,
            publicAddress: g.publicAddress,
            controlUrl: g.controlUrl,
            portRange: [g.portRange.from, g.portRange.to] as [number, number],
            version: g.version,
            tags: [...g.tags],
            capacity: g.capacity,
            stats: g.stats,
            renewSeconds: g.renewSeconds,
            registeredAt: iso(g.registeredAt),
            lastRenewalAt: iso(g.renewedAt),
            lastRenewalAgeSeconds: Math.max(0, Math.round((now - g.renewedAt) / 1000)),
            expiresAt: iso(g.expiresAt),
            forwardsOpen: g.forwardsOpen,
            clusters: [...g.clusters],
          })),
        ],
      };
    }),
  ];
}
