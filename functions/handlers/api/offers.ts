/** The offer list, connect and release: what a signed-in user does with desktops. */

import { BROWSER_PROTOCOLS } from '../../core/gateways/html5-ticket.ts';
import * as z from '../../core/zod.ts';
import { idParam, mode, okBody } from './common.ts';
import { route } from './route.ts';

export const offer = z
  .object({
    desktopId: z.int(),
    name: z.string(),
    pool: z.string(),
    /** assigned: hard-assigned to the user; held: the user has it now; available: free in the pool */
    status: z.enum(['assigned', 'held', 'available']),
    backup: z.literal(false),
    protocols: z.array(
      z.object({
        protocol: z.string(),
        port: z.int(),
        via: z.enum(['direct', 'gateway']),
        /** Present (true) when the desktop can be shown in the browser with this protocol. */
        browser: z.optional(z.literal(true)),
      }),
    ),
  })
  .check(z.meta({ id: 'Offer' }));

/** Why the list is empty ("No resources available"), present only when it is. */
export const noOffersReason = z.optional(z.string());

export const offerList = z
  .object({ mode, offers: z.array(offer), reason: noOffersReason })
  .check(z.meta({ id: 'OfferList' }));

export const launchFile = z.object({
  name: z.string(),
  contentType: z.string(),
  content: z.string(),
});

/** For a desktop client (`display: "client"`, the default): where to connect, and how. */
export const clientConnection = z
  .object({
    desktopId: z.int(),
    name: z.string(),
    protocol: z.string(),
    display: z.literal('client'),
    host: z.string(),
    port: z.int(),
    via: z.enum(['direct', 'gateway']),
    gateway: z.optional(z.string()),
    launchFile: z.optional(launchFile),
    uri: z.optional(z.string()),
    mode,
  })
  .check(z.meta({ id: 'ClientConnection' }));

/**
 * For the browser (`display: "browser"`): open `webSocket.url` with the one-time ticket (VNC:
 * as the subprotocol `deskbroker.ticket.<ticket>` next to `binary`; RDP: as the RDCleanPath
 * proxy authorization). The ticket is good once, for 30 s, from the address that asked.
 */
export const browserConnection = z
  .object({
    desktopId: z.int(),
    name: z.string(),
    protocol: z.enum(BROWSER_PROTOCOLS),
    display: z.literal('browser'),
    via: z.literal('gateway'),
    gateway: z.string(),
    webSocket: z.object({
      url: z.string(),
      ticket: z.string(),
      /** Epoch milliseconds. */
      expiresAt: z.int(),
    }),
    mode,
  })
  .check(z.meta({ id: 'BrowserConnection' }));

export const connection = z
  .discriminatedUnion('display', [clientConnection, browserConnection])
  .check(z.meta({ id: 'Connection' }));

const desktopPath = z.object({ desktopId: idParam('desktop') });

export const listOffersRoute = route({
  method: 'GET',
  path: '/api/v1/offers',
  function: 'offers',
  auth: 'session',
  summary: 'The signed-in user’s offer list, read afresh',
  response: offerList,
  errors: [401, 503],
});

export const connectRoute = route({
  method: 'POST',
  path: '/api/v1/offers/{desktopId}/connect',
  function: 'offers',
  auth: 'session',
  summary: 'Claim an offered desktop, open its path, and get the connection details',
  params: desktopPath,
  body: z.strictObject({
    /** A protocol of the desktop's plan; default its first (for the browser: its first the browser shows). */
    protocol: z.optional(z.string().check(z.minLength(1), z.maxLength(16))),
    /** `client` (default): a launch file or URI; `browser`: a gateway WebSocket and a ticket. */
    display: z.optional(z.enum(['client', 'browser'])),
  }),
  response: connection,
  errors: [401, 403, 404, 409, 503],
});

export const releaseRoute = route({
  method: 'POST',
  path: '/api/v1/offers/{desktopId}/release',
  function: 'offers',
  auth: 'session',
  summary: 'Give a desktop back to its pool and close its forwards',
  params: desktopPath,
  response: okBody,
  errors: [401, 404, 503],
});

export const offersRoutes = [listOffersRoute, connectRoute, releaseRoute] as const;
