/**
 * The admin API's desktop views: every desktop with its state and holder, releasing one, and
 * pool usage. Administrators only; answered 503 in leased mode.
 */

import { DESKTOP_STATUSES } from '../../../core/admin/ports.ts';
import * as z from '../../../core/zod.ts';
import { ADMIN_ERRORS, idParam, isoTime } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, namePosition, nextCursor } from './paging.ts';

const name = z.string().check(z.trim(), z.minLength(1), z.maxLength(256));

const lease = z.object({
  user: z.string(),
  expiresAt: isoTime,
  lastLaunchAt: isoTime,
});

export const adminDesktop = z
  .object({
    id: z.int(),
    name: z.string(),
    pool: z.string(),
    address: z.string(),
    status: z.enum(DESKTOP_STATUSES),
    assignedTo: z.nullable(z.string()).check(z.meta({ description: 'hard-assigned to this user' })),
    heldBy: z.nullable(z.string()).check(z.meta({ description: 'the user it is handed to now' })),
    heldSince: z.nullable(isoTime),
    sessionState: z.enum(['none', 'connected', 'disconnected']),
    agent: z.object({
      managed: z.boolean().check(z.meta({ description: 'whether it has an agent key' })),
      lastSeenAt: z.nullable(isoTime),
      lastEvent: z.nullable(z.object({ event: z.string(), at: isoTime })),
    }),
    launchedFrom: z
      .nullable(
        z.object({ address: z.nullable(z.string()), client: z.nullable(z.string()), at: isoTime }),
      )
      .check(z.meta({ description: 'the client of the connect that handed it to its holder' })),
    leases: z.array(lease).check(z.meta({ description: 'unexpired connection leases on it' })),
  })
  .check(z.meta({ id: 'AdminDesktop' }));

export const desktopsRoute = route({
  method: 'GET',
  path: '/api/v1/admin/desktops',
  function: 'admin',
  auth: 'admin',
  summary: 'Desktops with their state, holder, agent, launching client and leases, by name',
  query: z.object({
    pool: z.optional(name),
    status: z.optional(z.enum(DESKTOP_STATUSES)),
    user: z.optional(name).check(z.meta({ description: 'held by or hard-assigned to this user' })),
    limit: limitParam,
    cursor: cursorParam('desktops', z.object({ name: namePosition, id: z.int() })),
  }),
  response: z.object({
    desktops: z.array(adminDesktop),
    nextCursor,
    heartbeatSeconds: z.int(),
  }),
  errors: ADMIN_ERRORS,
});

export const releaseDesktopRoute = route({
  method: 'POST',
  path: '/api/v1/admin/desktops/{desktopId}/release',
  function: 'admin',
  auth: 'admin',
  summary: 'Give a desktop back to its pool and close its gateway forwards (logged with who)',
  params: z.object({ desktopId: idParam('desktop') }),
  response: z.object({
    desktopId: z.int(),
    name: z.string(),
    releasedFrom: z.string(),
  }),
  errors: [...ADMIN_ERRORS, 404, 409],
});

const counts = z.object({
  available: z.int(),
  assigned: z.int(),
  inUse: z.int(),
  unreachable: z.int(),
  agentSilent: z.int(),
});

export const poolsRoute = route({
  method: 'GET',
  path: '/api/v1/admin/pools',
  function: 'admin',
  auth: 'admin',
  summary: 'Pool usage: desktops by state, and the policies that offer from each pool',
  query: z.object({
    limit: limitParam,
    cursor: cursorParam('pools', namePosition),
  }),
  response: z.object({
    pools: z.array(
      z.object({
        name: z.string(),
        total: z.int(),
        ...counts.shape,
        policies: z.array(z.object({ name: z.string(), as: z.enum(['primary', 'backup']) })),
      }),
    ),
    nextCursor,
  }),
  errors: ADMIN_ERRORS,
});

export const desktopRoutes = [desktopsRoute, releaseDesktopRoute, poolsRoute] as const;
