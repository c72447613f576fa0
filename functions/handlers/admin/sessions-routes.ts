/**
 * `/api/v1/admin/sessions` and `/clients`: who is signed in (the state table's live
 * sessions), ending a session, and the client devices registered at login with the
 * locations they are in.
 */
import type { Broker } from '../../compose.ts';
import { NotFoundError } from '../../core/errors.ts';
import { locationsOf } from '../../core/login/locations.ts';
import { sessionEnd } from '../../core/login/sessions.ts';
import { encodeCursor } from '../api/admin/paging.ts';
import { clientsRoute, endSessionRoute, sessionsRoute } from '../api/admin/sessions.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionsRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, sessionsRoute, async ({ query, session: me }) => {
      const page = await broker.sessions.list({
        limit: query.limit,
        after: query.cursor,
        user: query.user,
      });
      return {
        nextCursor: page.next ? encodeCursor('sessions', page.next) : null,
        sessions: page.sessions.map((s) => ({
          id: s.tokenHash,
          user: s.user,
          authServer: s.authServer,
          role: s.role,
          isAdmin: s.isAdmin,
          clientAddress: s.clientIp,
          loginGateway: s.loginGateway,
          locations: [...s.locations],
          mode: s.mode,
          signedInAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          endsAt: iso(sessionEnd(s, broker.sessionLimits)),
          self: s.tokenHash === me.tokenHash,
        })),
      };
    }),
    sessionEndpoint(broker, endSessionRoute, async ({ params, session: me }) => {
      const target = await broker.sessions.get(params.sessionId);
      if (!target) {
        throw new NotFoundError(
          'unknown_session',
          'there is no such live session; it may have ended already',
        );
      }
      await broker.sessions.delete(params.sessionId);
      await broker.desktops.appendLog([
        {
          event: 'session_ended',
          user: target.user,
          clientIp: target.clientIp,
          detail: `by administrator ${me.user}`,
        },
      ]);
      broker.logger.info('session ended by an administrator', { by: me.user, user: target.user });
      return { ended: true as const, user: target.user };
    }),
    sessionEndpoint(broker, clientsRoute, async ({ query }) => {
      const [{ config }, page] = await Promise.all([
        broker.snapshot.get(),
        broker.admin.activity.clients(
          { user: query.user },
          { limit: query.limit, after: query.cursor },
        ),
      ]);
      return {
        nextCursor: page.next ? encodeCursor('clients', page.next) : null,
        clients: page.items.map((c) => ({
          id: c.id,
          name: c.name,
          address: c.address,
          loginGateway: c.loginGateway,
          locations: locationsOf(config, {
            ip: c.address,
            name: c.name,
            loginGateway: c.loginGateway,
            headers: c.attributes,
          }).map((l) => l.name),
          attributes: { ...c.attributes },
          lastUser: c.lastUser,
          firstSeenAt: iso(c.firstSeenAt),
          lastLoginAt: iso(c.lastSeenAt),
        })),
      };
    }),
  ];
}
