/**
 * `/api/v1/admin/leases`: list leases (by user), remove one, revoke all of a user's (and keep
 * them out of leased mode), lift a revocation, rebuild leases from the site database.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../../compose.ts';
import { NotFoundError } from '../../core/errors.ts';
import { rebuildLeases } from '../../core/leasing/upkeep.ts';
import type { Route } from '../http/handler.ts';
import { jsonBody, pathParam, queryParam, validate } from '../http/request.ts';
import { json } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

const userBody = z.strictObject({ user: z.string().trim().min(1).max(256) });
const desktopId = z.coerce.number().int().positive().max(2_147_483_647);

export function leasesRoutes(broker: Broker): Route[] {
  const { leases } = broker.leasing;
  const now = () => broker.clock.now();
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/leases',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const user = queryParam(event, 'user');
        const list = await leases.list({ user: user || undefined }, now());
        return json(200, {
          leases: list.map((l) => ({
            ...l,
            createdAt: new Date(l.createdAt).toISOString(),
            lastLaunchAt: new Date(l.lastLaunchAt).toISOString(),
            expiresAt: new Date(l.expiresAt).toISOString(),
          })),
        });
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/admin/leases/{user}/{desktopId}',
      handler: async (event: ALBEvent) => {
        const session = await requireAdminSession(broker, event);
        const user = pathParam(event, 'user');
        const id = validate(z.object({ desktopId }), {
          desktopId: pathParam(event, 'desktopId'),
        }).desktopId;
        if (!(await leases.remove(user, id))) {
          throw new NotFoundError('unknown_lease', `${user} has no lease on desktop ${id}`);
        }
        broker.logger.info('lease removed', { by: session.user, user, desktopId: id });
        return json(200, { removed: 1 });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/admin/leases/revoke',
      handler: async (event: ALBEvent) => {
        const session = await requireAdminSession(broker, event);
        const { user } = jsonBody(event, userBody);
        const removed = await leases.revoke(user, now());
        broker.logger.info('leases revoked', { by: session.user, user, removed });
        return json(200, { user, removed, revoked: true });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/admin/leases/unrevoke',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const { user } = jsonBody(event, userBody);
        await leases.unrevoke(user);
        return json(200, { user, revoked: false });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/admin/leases/rebuild',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        return json(200, await rebuildLeases(broker.leasing.upkeep));
      },
    },
  ];
}
