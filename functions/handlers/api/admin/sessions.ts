/**
 * The admin API's views of who is signed in and from where: live broker sessions (from the
 * state table, so they answer in leased mode too), ending one, and registered clients.
 */
import * as z from '../../../core/zod.ts';
import { ADMIN_ERRORS, isoTime, mode } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, nextCursor, timePosition } from './paging.ts';

const sessionId = z.string().check(
  z.regex(/^[0-9a-f]{64}$/, 'must be a session id (64 hexadecimal characters)'),
  z.meta({
    description: 'the id the sessions list gives (not the token, which is never stored)',
  }),
);

export const sessionsRoute = route({
  method: 'GET',
  path: '/api/v1/admin/sessions',
  function: 'admin',
  auth: 'admin',
  summary: 'Live broker sessions: user, client address, locations, signed in, last seen',
  query: z.object({
    user: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
    limit: limitParam,
    cursor: cursorParam(
      'sessions',
      z.object({
        pk: z.string().check(z.minLength(1), z.maxLength(600)),
        sk: z.string().check(z.minLength(1), z.maxLength(600)),
      }),
    ),
  }),
  response: z.object({
    sessions: z.array(
      z.object({
        id: sessionId,
        user: z.string(),
        authServer: z.string(),
        role: z.string(),
        isAdmin: z.boolean(),
        clientAddress: z.string(),
        loginGateway: z.nullable(z.string()),
        locations: z.array(z.string()),
        mode,
        signedInAt: isoTime,
        lastSeenAt: isoTime,
        endsAt: isoTime.check(
          z.meta({
            description: 'when it ends unless used again (idle or absolute limit)',
          }),
        ),
        self: z.boolean().check(z.meta({ description: 'the session making this request' })),
      }),
    ),
    nextCursor,
  }),
  errors: ADMIN_ERRORS,
});

export const endSessionRoute = route({
  method: 'DELETE',
  path: '/api/v1/admin/sessions/{sessionId}',
  function: 'admin',
  auth: 'admin',
  summary: 'End a broker session: its user is signed out at their next call',
  params: z.object({ sessionId }),
  response: z.object({ ended: z.literal(true), user: z.string() }),
  errors: [...ADMIN_ERRORS, 404],
});

export const clientsRoute = route({
  method: 'GET',
  path: '/api/v1/admin/clients',
  function: 'admin',
  auth: 'admin',
  summary: 'Registered client devices (Resources > Clients), most recently seen first',
  query: z.object({
    user: z
      .optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256)))
      .check(z.meta({ description: 'the last user who signed in from it' })),
    limit: limitParam,
    cursor: cursorParam('clients', timePosition),
  }),
  response: z.object({
    clients: z.array(
      z.object({
        id: z.int(),
        name: z.string(),
        address: z.string(),
        loginGateway: z.nullable(z.string()),
        locations: z
          .array(z.string())
          .check(z.meta({ description: 'the locations it is in under the current configuration' })),
        attributes: z.record(z.string(), z.string()),
        lastUser: z.nullable(z.string()),
        firstSeenAt: isoTime,
        lastLoginAt: isoTime,
      }),
    ),
    nextCursor,
  }),
  errors: ADMIN_ERRORS,
});

export const sessionRoutes = [sessionsRoute, endSessionRoute, clientsRoute] as const;
