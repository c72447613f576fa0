/**
 * `GET /api/v1/admin/gateways`: a minimal gateway list (issue 13) until the admin API's full
 * one (issue 11) replaces it: the gateways of the site configuration, and the gateways that
 * registered themselves with their tags, counters and last renewal (live, or dropped within
 * the last hour after missed renewals).
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../../compose.ts';
import { isLive } from '../../core/gateways/registration.ts';
import type { Route } from '../http/handler.ts';
import { json } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

export function gatewaysRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/gateways',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const now = broker.clock.now();
        const [{ config }, registered] = await Promise.all([
          broker.snapshot.get(),
          broker.gatewayRegistry.listRegistered(now),
        ]);
        const iso = (ms: number) => new Date(ms).toISOString();
        return json(200, {
          gateways: [
            ...config.gateways.map((g) => ({
              name: g.name,
              source: 'configured',
              address: g.address,
              publicAddress: g.publicAddress,
              controlUrl: g.controlUrl,
              portRange: { from: g.portRange[0], to: g.portRange[1] },
            })),
            ...registered.map((g) => ({
              name: g.name,
              source: 'registered',
              status: isLive(g, now) ? 'live' : 'dropped',
              address: g.address,
              publicAddress: g.publicAddress,
              controlUrl: g.controlUrl,
              portRange: g.portRange,
              version: g.version,
              tags: g.tags,
              capacity: g.capacity,
              stats: g.stats,
              renewSeconds: g.renewSeconds,
              registeredAt: iso(g.registeredAt),
              lastRenewalAt: iso(g.renewedAt),
              lastRenewalAgeSeconds: Math.max(0, Math.round((now - g.renewedAt) / 1000)),
              expiresAt: iso(g.expiresAt),
            })),
          ],
        });
      },
    },
  ];
}
