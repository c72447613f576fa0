/** What desktop agents report. */
import * as z from 'zod';
import { route } from './route.ts';

export const agentEventRoute = route({
  method: 'POST',
  path: '/api/v1/agent/events',
  function: 'agent',
  auth: 'agent',
  summary: 'A desktop agent’s login, logout, disconnect, reconnect or heartbeat',
  body: z.strictObject({
    event: z.enum(['login', 'logout', 'disconnect', 'reconnect', 'heartbeat']),
    user: z.string().trim().min(1).max(256).optional(),
  }),
  response: z.object({
    desktop: z.string(),
    sessionState: z.enum(['none', 'connected', 'disconnected']),
    released: z.boolean(),
  }),
  errors: [401, 503],
});

export const agentRoutes = [agentEventRoute] as const;
