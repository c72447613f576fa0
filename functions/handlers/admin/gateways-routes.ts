/**
 * `GET /api/v1/admin/gateways`: a minimal gateway list (issue 13) until the admin API's full
 * one (issue 11) replaces it: the gateways of the site configuration, and the gateways that
 * registered themselves with their tags, counters and last renewal (live, or dropped within
 * the last hour after missed renewals).
 */
import type { Broker } from '../../compose.ts';
import { isLive } from '../../core/gateways/registration.ts';
import { adminGatewaysRoute } from '../api/operations.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function gatewaysRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, adminGatewaysRoute, async () => {
      const now = broker.clock.now();
      const [{ config }, registered] = await Promise.all([
        broker.snapshot.get(),
        broker.gatewayRegistry.listRegistered(now),
      ]);
      return {
        gateways: [
          ...config.gateways.map((g) => ({
            name: g.name,
            source: 'configured' as const,
            address: g.address,
            publicAddress: g.publicAddress,
            controlUrl: g.controlUrl,
            portRange: { from: g.portRange[0], to: g.portRange[1] },
          })),
          ...registered.map((g) => ({
            name: g.name,
            source: 'registered' as const,
            status: isLive(g, now) ? ('live' as const) : ('dropped' as const),
            address: g.address,
            publicAddress: g.publicAddress,
            controlUrl: g.controlUrl,
            portRange: g.portRange,
            version: g.version,
            tags: [...g.tags],
            capacity: g.capacity,
            stats: g.stats,
            renewSeconds: g.renewSeconds,
            registeredAt: iso(g.registeredAt),
            lastRenewalAt: iso(g.renewedAt),
            lastRenewalAgeSeconds: Math.max(0, Math.round((now - g.renewedAt) / 1000)),
            expiresAt: iso(g.expiresAt),
          })),
        ],
      };
    }),
  ];
}
