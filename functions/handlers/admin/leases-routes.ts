/**
 * `/api/v1/admin/leases`, as Citrix's lease cmdlets: list leases (filtered by user, desktop,
 * live or expired, a page at a time), remove one or all of a user's or a desktop's (or every
 * lease), revoke all of a user's (and keep them out of leased mode), lift a revocation,
 * rebuild leases from the site database.
 */
import type { Broker } from '../../compose.ts';
import { NotFoundError } from '../../core/errors.ts';
import { isLive } from '../../core/leasing/leases.ts';
import {
  leasesRoute,
  rebuildLeasesRoute,
  removeLeaseRoute,
  removeLeasesRoute,
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
      const at = now();
      const page = await leases.list(
        { user: query.user, desktopId: query.desktopId, state: query.state },
        at,
        { limit: query.limit, cursor: query.cursor },
      );
      return {
        leases: page.leases.map((l) => ({
          ...l,
          launch: { ...l.launch, protocols: [...l.launch.protocols] },
          createdAt: new Date(l.createdAt).toISOString(),
          lastLaunchAt: new Date(l.lastLaunchAt).toISOString(),
          expiresAt: new Date(l.expiresAt).toISOString(),
          state: isLive(l, at) ? ('live' as const) : ('expired' as const),
        })),
        nextCursor: page.cursor ?? null,
      };
    }),
    sessionEndpoint(broker, removeLeasesRoute, async ({ session, query }) => {
      const filter = { user: query.user, desktopId: query.desktopId };
      const removed = await leases.removeWhere(filter);
      broker.logger.info('leases removed', { by: session.user, ...filter, removed });
      return { removed };
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
    sessionEndpoint(broker, rebuildLeasesRoute, () => broker.leasing.rebuild()),
  ];
}
