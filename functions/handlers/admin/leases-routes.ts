/**
 * `/api/v1/admin/leases`: list leases (by user), remove one, revoke all of a user's (and keep
 * them out of leased mode), lift a revocation, rebuild leases from the site database.
 */
import type { Broker } from '../../compose.ts';
import { NotFoundError } from '../../core/errors.ts';
import { rebuildLeases } from '../../core/leasing/upkeep.ts';
import {
  leasesRoute,
  rebuildLeasesRoute,
  removeLeaseRoute,
  revokeLeasesRoute,
  unrevokeLeasesRoute,
} from '../api/admin.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

export function leasesRoutes(broker: Broker): Route[] {
  const { leases } = broker.leasing;
  const now = () => broker.clock.now();
  return [
    sessionEndpoint(broker, leasesRoute, async ({ query }) => {
      const list = await leases.list({ user: query.user || undefined }, now());
      return {
        leases: list.map((l) => ({
          ...l,
          launch: { ...l.launch, protocols: [...l.launch.protocols] },
          createdAt: new Date(l.createdAt).toISOString(),
          lastLaunchAt: new Date(l.lastLaunchAt).toISOString(),
          expiresAt: new Date(l.expiresAt).toISOString(),
        })),
      };
    }),
    sessionEndpoint(broker, removeLeaseRoute, async ({ session, params }) => {
      const { user, desktopId } = params;
      if (!(await leases.remove(user, desktopId))) {
        throw new NotFoundError('unknown_lease', `${user} has no lease on desktop ${desktopId}`);
      }
      broker.logger.info('lease removed', { by: session.user, user, desktopId });
      return { removed: 1 };
    }),
    sessionEndpoint(broker, revokeLeasesRoute, async ({ session, body }) => {
      const removed = await leases.revoke(body.user, now());
      broker.logger.info('leases revoked', { by: session.user, user: body.user, removed });
      return { user: body.user, removed, revoked: true as const };
    }),
    sessionEndpoint(broker, unrevokeLeasesRoute, async ({ body }) => {
      await leases.unrevoke(body.user);
      return { user: body.user, revoked: false as const };
    }),
    sessionEndpoint(broker, rebuildLeasesRoute, () => rebuildLeases(broker.leasing.upkeep)),
  ];
}
