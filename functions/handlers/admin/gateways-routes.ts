/**
 * `/api/v1/admin/gateways`: each gateway with the check_gateway job's verdict and since
 * when, the forwards the broker holds open on it, and its clusters.
 */
import type { Broker } from '../../compose.ts';
import { gatewaysRoute } from '../api/admin/gateways.ts';
import { encodeCursor } from '../api/admin/paging.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function gatewaysRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, gatewaysRoute, async ({ query }) => {
      const page = await broker.admin.activity.gateways(
        { limit: query.limit, after: query.cursor },
        broker.clock.now(),
      );
      return {
        checked: broker.gatewayControl !== undefined,
        nextCursor: page.next ? encodeCursor('gateways', page.next) : null,
        gateways: page.items.map((g) => ({
          ...g,
          portRange: [g.portRange[0], g.portRange[1]] as [number, number],
          reported: g.reported && {
            version: g.reported.version,
            portRange: g.reported.portRange
              ? ([g.reported.portRange[0], g.reported.portRange[1]] as [number, number])
              : null,
          },
          clusters: [...g.clusters],
          statusSince: isoOrNull(g.statusSince),
          checkedAt: isoOrNull(g.checkedAt),
        })),
      };
    }),
  ];
}
