/** Calls that gateways make to the broker, signed with the gateway secret. */
import * as z from 'zod';
import { route } from './route.ts';

export const gatewayForwardsRoute = route({
  method: 'GET',
  path: '/api/v1/gateway/forwards',
  function: 'gateway-api',
  auth: 'gateway',
  summary: 'The forwards a (re)starting gateway should hold open',
  query: z.object({ gateway: z.string().min(1, 'is required').max(128) }),
  response: z.object({
    forwards: z.array(
      z.object({
        key: z.string(),
        listenPort: z.number().int(),
        desktopHost: z.string(),
        desktopPort: z.number().int(),
        clientIp: z.string(),
        expiresAt: z.number().int(),
        connections: z.number().int(),
      }),
    ),
  }),
  errors: [401, 503],
});

export const gatewayRoutes = [gatewayForwardsRoute] as const;
