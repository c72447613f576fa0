/**
 * `/api/v1/admin/desktops` and `/pools`: every desktop with its state, holder, agent,
 * launching client and leases; releasing one (its forwards closed, logged with who did it);
 * pool usage.
 */
import type { Broker } from '../../compose.ts';
import {
  type AdminDesktopDeps,
  listDesktops,
  poolUsage,
  releaseByAdministrator,
} from '../../core/admin/desktops.ts';
import { desktopsRoute, poolsRoute, releaseDesktopRoute } from '../api/admin/desktops.ts';
import { encodeCursor } from '../api/admin/paging.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const deps = (broker: Broker): AdminDesktopDeps => ({
  views: broker.admin.desktops,
  leases: broker.leasing.leases,
  snapshot: broker.snapshot,
  gateways: broker.gateways,
  clock: broker.clock,
});

export function desktopsRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, desktopsRoute, async ({ query }) => {
      const { limit, cursor, ...filter } = query;
      const page = await listDesktops(deps(broker), filter, { limit, after: cursor });
      return {
        heartbeatSeconds: page.heartbeatSeconds,
        nextCursor: page.next ? encodeCursor('desktops', page.next) : null,
        desktops: page.items.map((d) => ({
          ...d,
          heldSince: isoOrNull(d.heldSince),
          agent: {
            managed: d.agent.managed,
            lastSeenAt: isoOrNull(d.agent.lastSeenAt),
            lastEvent: d.agent.lastEvent && { ...d.agent.lastEvent, at: iso(d.agent.lastEvent.at) },
          },
          launchedFrom: d.launchedFrom && { ...d.launchedFrom, at: iso(d.launchedFrom.at) },
          leases: d.leases.map((l) => ({
            user: l.user,
            expiresAt: iso(l.expiresAt),
            lastLaunchAt: iso(l.lastLaunchAt),
          })),
        })),
      };
    }),
    sessionEndpoint(broker, releaseDesktopRoute, async ({ session, params }) => {
      const released = await releaseByAdministrator(deps(broker), params.desktopId, session.user);
      broker.logger.info('desktop released by an administrator', { by: session.user, ...released });
      return released;
    }),
    sessionEndpoint(broker, poolsRoute, async ({ query }) => {
      const page = await poolUsage(deps(broker), { limit: query.limit, after: query.cursor });
      return {
        nextCursor: page.next ? encodeCursor('pools', page.next) : null,
        pools: page.items.map((p) => ({
          name: p.name,
          total: p.total,
          available: p.counts.available,
          assigned: p.counts.assigned,
          inUse: p.counts['in use'],
          unreachable: p.counts.unreachable,
          agentSilent: p.counts['agent silent'],
          policies: [...p.policies],
        })),
      };
    }),
  ];
}
