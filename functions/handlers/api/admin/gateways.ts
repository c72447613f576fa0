/** The admin API's gateways view: each gateway's state, forwards and clusters. */
import * as z from 'zod';
import { ADMIN_ERRORS, isoTime } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, namePosition, nextCursor } from './paging.ts';

export const gatewaysRoute = route({
  method: 'GET',
  path: '/api/v1/admin/gateways',
  function: 'admin',
  auth: 'admin',
  summary: 'Gateways: up or down (check_gateway) and since when, forwards open, clusters',
  query: z.object({
    limit: limitParam,
    cursor: cursorParam('gateways', namePosition),
  }),
  response: z.object({
    checked: z
      .boolean()
      .meta({ description: 'whether check_gateway can reach gateways (GATEWAY_SECRET is set)' }),
    gateways: z.array(
      z.object({
        name: z.string(),
        address: z.string(),
        publicAddress: z.string(),
        portRange: z.tuple([z.number().int(), z.number().int()]),
        status: z.enum(['up', 'down', 'unknown']),
        statusSince: isoTime.nullable(),
        checkedAt: isoTime.nullable(),
        reported: z
          .object({
            version: z.string().nullable(),
            portRange: z.tuple([z.number().int(), z.number().int()]).nullable(),
          })
          .nullable()
          .meta({ description: 'what the gateway reported at its last check (GET /info)' }),
        forwardsOpen: z.number().int(),
        clusters: z.array(z.string()),
      }),
    ),
    nextCursor,
  }),
  errors: ADMIN_ERRORS,
});

export const gatewayRoutes = [gatewaysRoute] as const;
