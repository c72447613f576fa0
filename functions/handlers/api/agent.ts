/** What desktop agents report. */
import * as z from '../../core/zod.ts';
import { route } from './route.ts';

export const agentEventRoute = route({
  method: 'POST',
  path: '/api/v1/agent/events',
  function: 'agent',
  auth: 'agent',
  summary: 'A desktop agent’s login, logout, disconnect, reconnect or heartbeat',
  body: z.strictObject({
    event: z.enum(['login', 'logout', 'disconnect', 'reconnect', 'heartbeat']),
    user: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
  }),
  response: z.object({
    desktop: z.string(),
    sessionState: z.enum(['none', 'connected', 'disconnected']),
    released: z.boolean(),
  }),
  errors: [401, 503],
});

export const agentRoutes = [agentEventRoute] as const;
