/** Calls that gateways make to the broker, signed with the gateway secret. */

import {
  REDEEM_PATH,
  redeemAnswerSchema,
  redeemRequestSchema,
} from '../../core/gateways/html5-ticket.ts';
import {
  deregistrationAnswerSchema,
  GATEWAY_REGISTRATIONS_PATH,
  gatewayNameSchema,
  registrationAnswerSchema,
  registrationRequestSchema,
} from '../../core/gateways/registration-contract.ts';
import * as z from '../../core/zod.ts';
import { route } from './route.ts';

export const gatewayForwardsRoute = route({
  method: 'GET',
  path: '/api/v1/gateway/forwards',
  function: 'gateway-api',
  auth: 'gateway',
  summary: 'The forwards a (re)starting gateway should hold open',
  query: z.object({ gateway: z.string().check(z.minLength(1, 'is required'), z.maxLength(128)) }),
  response: z.object({
    forwards: z.array(
      z.object({
        key: z.string(),
        listenPort: z.int(),
        desktopHost: z.string(),
        desktopPort: z.int(),
        clientIp: z.string(),
        expiresAt: z.int(),
        connections: z.int(),
      }),
    ),
  }),
  errors: [401, 503],
});

/** The wire format is core/gateways/registration-contract.ts, which the gateway imports too. */
export const registerGatewayRoute = route({
  method: 'POST',
  path: GATEWAY_REGISTRATIONS_PATH,
  function: 'gateway-api',
  auth: 'gateway',
  summary:
    'A gateway registers or renews (name, addresses, port range, tags, counters); dropped after three missed renewals',
  body: registrationRequestSchema,
  response: registrationAnswerSchema,
  errors: [401, 503],
});

export const deregisterGatewayRoute = route({
  method: 'DELETE',
  path: `${GATEWAY_REGISTRATIONS_PATH}/{name}`,
  function: 'gateway-api',
  auth: 'gateway',
  summary: 'A gateway that stops cleanly deregisters',
  params: z.object({ name: gatewayNameSchema }),
  response: deregistrationAnswerSchema,
  errors: [401, 503],
});

/**
 * A gateway redeems the HTML5 ticket a browser presented: once, across every broker (the use is
 * recorded in the state table), from the address it was issued to, before it expires.
 * Body and answer are the ticket contract's (core/gateways/html5-ticket.ts), which the gateway
 * imports too. 403 `ticket_<reason>` with `reason` refuses it.
 */
export const redeemTicketRoute = route({
  method: 'POST',
  path: REDEEM_PATH,
  function: 'gateway-api',
  auth: 'gateway',
  summary: 'Redeem a one-time HTML5 ticket (desktop in the browser)',
  body: redeemRequestSchema,
  response: redeemAnswerSchema.check(z.meta({ id: 'RedeemedTicket' })),
  errors: [401, 403, 503],
});

export const gatewayRoutes = [
  gatewayForwardsRoute,
  registerGatewayRoute,
  deregisterGatewayRoute,
  redeemTicketRoute,
] as const;
