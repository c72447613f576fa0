/**
 * The gateway control API's contract: the request and response bodies of every call, as zod
 * schemas that both sides import: the gateway (functions/gateway/control-api.ts) parses
 * requests with them and builds its answers to them; the broker's client
 * (functions/adapters/gateway/gateway-client.ts) parses the answers with them. Neither side
 * checks the other by hand. The README's "Gateway control API" section is this file in words.
 *
 * Every request is signed (./signature.ts); every error is {@link controlErrorSchema}.
 */
import { isIP } from 'node:net';
import { normalizeIp } from '../ip-range.ts';
import * as z from '../zod.ts';

/** Forward keys: URL-safe, as they appear in `DELETE /forwards/{key}`. */
export const FORWARD_KEY_RE = /^[A-Za-z0-9_-]{1,128}$/;

const port = z.int().check(z.minimum(1), z.maximum(65_535));
const count = z.int().check(z.minimum(0));
const bytes = z.number().check(z.minimum(0));

/** `POST /forwards` request body: one forward to open (or re-open, same key). */
export const forwardSpecSchema = z.object({
  key: z.string().check(z.regex(FORWARD_KEY_RE, 'must be 1-128 characters of A-Z a-z 0-9 _ -')),
  /** A port of the gateway's range; the gateway picks a free one when absent. */
  listenPort: z.optional(port),
  desktopHost: z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(253),
      z.regex(/^[A-Za-z0-9.:_%-]+$/, 'must be a host name or an IP address'),
    ),
  desktopPort: port,
  /** The only source address allowed to connect. */
  clientIp: z.string().check(z.refine((v) => isIP(normalizeIp(v)) !== 0, 'must be an IP address')),
  /** Epoch milliseconds after which the forward closes. */
  expiresAt: z.int().check(z.positive()),
  /** Seconds without traffic after which a connection is closed (the forward stays). */
  idleSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(30 * 86_400))),
});

/** One open forward: `POST /forwards` answer (201 new, 200 already open), `GET /forwards/{key}`. */
export const openForwardSchema = z.extend(forwardSpecSchema, {
  listenPort: port,
  /** Connections open through it now. */
  connections: count,
});

/** `GET /forwards` answer. */
export const forwardListSchema = z.object({ forwards: z.array(openForwardSchema) });

/** `DELETE /forwards/{key}` answer (an unknown key is not an error: `closed: false`). */
export const closeForwardSchema = z.object({ closed: z.boolean() });

/** Totals over every forward of a gateway. */
export const forwarderStatsSchema = z.object({
  forwards: count,
  /** Connections open now. */
  connections: count,
  /** Connections accepted since start (from the allowed client). */
  accepted: count,
  /** Connections reset at accept because they came from another address. */
  refused: count,
  /** Bytes received from clients (and sent on to desktops), including live connections. */
  bytesFromClients: bytes,
  /** Bytes sent to clients (received from desktops), including live connections. */
  bytesToClients: bytes,
});

/** HTML5 display (browsers' WebSockets bridged to desktops) on a gateway. */
export const html5StatsSchema = z.object({
  /** Whether the gateway can bridge (it needs BROKER_URL to redeem tickets). */
  enabled: z.boolean(),
  /** Live bridges. */
  connections: count,
  /** Bridges opened since start. */
  accepted: count,
  /** Tickets refused since start (forged, expired, replayed, another address, ...). */
  refused: count,
  bytesFromClients: bytes,
  bytesToClients: bytes,
  /** The most bytes one bridge held queued at once, either way, since start. */
  peakBufferedBytes: count,
});

/** `GET /info` answer: the gateway's state; its CLI's `--info` prints it. */
export const gatewayInfoSchema = z.extend(forwarderStatsSchema, {
  name: z.string(),
  version: z.string(),
  /** The ports it opens forwards on (GATEWAY_PORT_RANGE). */
  portRange: z.object({ from: port, to: port }),
  /** Login forwarding: on, and to which broker (origin only, never credentials). */
  brokerForwarding: z.object({ on: z.boolean(), target: z.optional(z.string()) }),
  /** Whether the start-up forward list from the broker has been applied. */
  brokerSync: z.enum(['off', 'pending', 'done']),
  state: z.enum(['RUNNING', 'STOPPING']),
  /** ISO 8601. */
  startedAt: z.string(),
  /** Resident memory of the gateway process, bytes. */
  rssBytes: count,
  /** HTML5 display; absent from gateways older than it. */
  html5: z.optional(html5StatsSchema),
});

/** Every error answer: `{ error: snake_case_code, message: sentence }`. */
export const controlErrorSchema = z.object({ error: z.string(), message: z.string() });

export type ForwardSpecBody = z.output<typeof forwardSpecSchema>;
export type OpenForwardBody = z.output<typeof openForwardSchema>;
export type ForwarderStats = z.output<typeof forwarderStatsSchema>;
export type GatewayInfo = z.output<typeof gatewayInfoSchema>;
export type Html5Stats = z.output<typeof html5StatsSchema>;
export type ControlErrorBody = z.output<typeof controlErrorSchema>;

/** The calls, with their status codes (for the README and tests). */
export const CONTROL_CALLS = [
  {
    method: 'POST',
    path: '/forwards',
    request: forwardSpecSchema,
    response: openForwardSchema,
    statuses: [201, 200, 400, 401, 409, 413, 503],
  },
  { method: 'GET', path: '/forwards', response: forwardListSchema, statuses: [200, 401] },
  {
    method: 'GET',
    path: '/forwards/{key}',
    response: openForwardSchema,
    statuses: [200, 400, 401, 404],
  },
  {
    method: 'DELETE',
    path: '/forwards/{key}',
    response: closeForwardSchema,
    statuses: [200, 400, 401],
  },
  { method: 'GET', path: '/info', response: gatewayInfoSchema, statuses: [200, 401] },
] as const;
