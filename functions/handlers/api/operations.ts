/**
 * Operations routes of issue 13: the broker's metrics (`GET /metrics`, Prometheus text) and a
 * minimal gateway list with the registered gateways (`GET /api/v1/admin/gateways`), until the
 * admin API's full gateway list (issue 11) takes its place. Administrators only.
 */
import * as z from 'zod';
import { isoTime } from './common.ts';
import { route } from './route.ts';

export const metricsRoute = route({
  method: 'GET',
  path: '/metrics',
  function: 'admin',
  auth: 'admin',
  summary:
    "The broker's metrics in the Prometheus text format (local runtime; on Lambda they go to CloudWatch and this answers 404)",
  response: z.string(),
  responseType: 'text/plain; version=0.0.4; charset=utf-8',
  errors: [401, 403, 404],
});

const portRange = z.object({ from: z.number().int(), to: z.number().int() });

const configuredGateway = z.object({
  name: z.string(),
  source: z.literal('configured'),
  address: z.string(),
  publicAddress: z.string(),
  controlUrl: z.string(),
  portRange,
});

const registeredGateway = z.object({
  name: z.string(),
  source: z.literal('registered'),
  /** `dropped`: it missed three renewals (listed for an hour after). */
  status: z.enum(['live', 'dropped']),
  address: z.string(),
  publicAddress: z.string(),
  controlUrl: z.string(),
  portRange,
  version: z.string(),
  tags: z.array(z.string()),
  capacity: z.object({ forwards: z.number().int() }),
  stats: z.object({
    forwards: z.number().int(),
    connections: z.number().int(),
    bytesFromClients: z.number().int(),
    bytesToClients: z.number().int(),
  }),
  renewSeconds: z.number().int(),
  registeredAt: isoTime,
  lastRenewalAt: isoTime,
  lastRenewalAgeSeconds: z.number().int(),
  expiresAt: isoTime,
});

export const adminGatewaysRoute = route({
  method: 'GET',
  path: '/api/v1/admin/gateways',
  function: 'admin',
  auth: 'admin',
  summary:
    'The gateways: those of the site configuration, and those that registered themselves with their last renewal',
  response: z.object({
    gateways: z.array(z.discriminatedUnion('source', [configuredGateway, registeredGateway])),
  }),
  errors: [401, 403, 503],
});

export const operationsRoutes = [metricsRoute, adminGatewaysRoute] as const;
