/**
 * The admin API's gateways view: the gateways of the site configuration (their state from
 * check_gateway and since when, what they reported, forwards open, clusters) and the gateways
 * that registered themselves (live or dropped, last renewal, counters, tags).
 */
import * as z from '../../../core/zod.ts';
import { ADMIN_ERRORS, isoTime } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, namePosition, nextCursor } from './paging.ts';

const portRange = z.tuple([z.int(), z.int()]);

const configuredGateway = z.object({
  source: z.literal('configured'),
  name: z.string(),
  address: z.string(),
  publicAddress: z.string(),
  controlUrl: z.string(),
  portRange,
  status: z.enum(['up', 'down', 'unknown']),
  statusSince: z.nullable(isoTime),
  checkedAt: z.nullable(isoTime),
  reported: z
    .nullable(z.object({ version: z.nullable(z.string()), portRange: z.nullable(portRange) }))
    .check(z.meta({ description: 'what the gateway reported at its last check (GET /info)' })),
  forwardsOpen: z.int(),
  clusters: z.array(z.string()),
});

const registeredGateway = z.object({
  source: z.literal('registered'),
  name: z.string(),
  /** `dropped`: it missed three renewals (listed for an hour after). */
  status: z.enum(['live', 'dropped']),
  address: z.string(),
  publicAddress: z.string(),
  controlUrl: z.string(),
  portRange,
  version: z.string(),
  tags: z.array(z.string()),
  capacity: z.object({ forwards: z.int() }),
  stats: z
    .object({
      forwards: z.int(),
      connections: z.int(),
      bytesFromClients: z.int(),
      bytesToClients: z.int(),
    })
    .check(z.meta({ description: 'its own counters at its last renewal' })),
  renewSeconds: z.int(),
  registeredAt: isoTime,
  lastRenewalAt: isoTime,
  lastRenewalAgeSeconds: z.int(),
  expiresAt: isoTime,
  forwardsOpen: z.int(),
  clusters: z.array(z.string()).check(z.meta({ description: 'the clusters whose tag it carries' })),
});

export const gatewaysRoute = route({
  method: 'GET',
  path: '/api/v1/admin/gateways',
  function: 'admin',
  auth: 'admin',
  summary:
    'Gateways: configured ones (up or down and since when, forwards open, clusters), paged; registered ones with their last renewal on the first page',
  query: z.object({
    limit: limitParam,
    cursor: cursorParam('gateways', namePosition),
  }),
  response: z.object({
    checked: z
      .boolean()
      .check(
        z.meta({ description: 'whether check_gateway can reach gateways (GATEWAY_SECRET is set)' }),
      ),
    gateways: z.array(z.discriminatedUnion('source', [configuredGateway, registeredGateway])),
    nextCursor,
  }),
  errors: ADMIN_ERRORS,
});

export const gatewayRoutes = [gatewaysRoute] as const;
