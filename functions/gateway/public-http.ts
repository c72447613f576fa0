/**
 * The gateway's public HTTP face.
 *
 * - `GET /app/system/ping` → 200 `OK` (text/plain), for load balancers (as in the guide).
 * - Every other request is reverse-proxied, streaming, to the broker (`BROKER_URL`), with
 *   {@link LOGIN_TAG_HEADER} set to a signed tag naming this gateway and the client's IP; a tag
 *   sent by the client is removed first. `X-Forwarded-For` gets the peer address appended.
 *   When the broker does not answer: 502 JSON. Without `BROKER_URL` forwarding is off: 404.
 */
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from '../adapters/logger.ts';
import { LOGIN_TAG_HEADER, signLoginTag } from '../core/gateways/signature.ts';
import { ipInRange, normalizeIp } from '../core/ip-range.ts';
import { sendJson } from './http-json.ts';

/** The load balancers' health path (the guide's "Checking the Leostream Gateway Status"). */
export const PING_PATH = '/app/system/ping';

/** How long the broker may take to start answering a forwarded request. */
const BROKER_RESPONSE_TIMEOUT_MS = 30_000;

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The client's IP: the peer address, or, when the peer is a trusted proxy (load balancer),
 * the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
 */
export function clientIpOf(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly string[],
): string {
  let ip = normalizeIp(peer ?? '');
  if (trustedProxies.length === 0) return ip;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((s) => normalizeIp(s))
    .filter(Boolean);
  const trusted = (address: string) => trustedProxies.some((range) => ipInRange(address, range));
  while (trusted(ip) && chain.length > 0) {
    const next = chain.pop()!;
    if (isIP(next) === 0) break;
    ip = next;
  }
  return ip;
}

/** Makes the public HTTP server (not listening yet). */
export function createPublicHttp(options: {
  gatewayName: string;
  secret: string;
  /** Broker base URL; undefined turns login forwarding off. */
  brokerUrl?: string;
  trustedProxies?: readonly string[];
  /** The gateway's registration tags, vouched for in each login tag (its tag clusters). */
  tags?: readonly string[];
  logger: Logger;
}): Server {
  const { logger, gatewayName, secret } = options;
  const trustedProxies = options.trustedProxies ?? [];
  const broker = options.brokerUrl ? new URL(options.brokerUrl) : undefined;
  const basePath = broker ? broker.pathname.replace(/\/+$/, '') : '';
  const secure = broker?.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
    : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const send = secure ? httpsRequest : httpRequest;

  function forward(req: IncomingMessage, res: ServerResponse, target: URL): void {
    const peer = normalizeIp(req.socket.remoteAddress ?? '');
    const clientIp = clientIpOf(peer, req.headers['x-forwarded-for'], trustedProxies);
    const headers: OutgoingHttpHeaders = withoutHopByHop(req.headers);
    delete headers[LOGIN_TAG_HEADER];
    const priorFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = priorFor
      ? `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${peer}`
      : peer;
    const peerTrusted = trustedProxies.some((range) => ipInRange(peer, range));
    if (!peerTrusted || !headers['x-forwarded-proto']) headers['x-forwarded-proto'] = 'http';
    if (!peerTrusted || !headers['x-forwarded-host']) {
      if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    }
    headers.host = target.host;
    headers[LOGIN_TAG_HEADER] = signLoginTag({
      secret,
      gateway: gatewayName,
      clientIp,
      tags: options.tags,
    });

    const upstream = send(target, { method: req.method, headers, agent });
    upstream.setTimeout(BROKER_RESPONSE_TIMEOUT_MS, () => {
      upstream.destroy(new Error('the broker did not answer in time'));
    });
    upstream.on('response', (answer) => {
      upstream.setTimeout(0);
      const responseHeaders = withoutHopByHop(answer.headers);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders);
      pipeline(answer, res, (e) => {
        if (e) logger.debug('response to client cut short', { path: req.url, error: e });
      });
    });
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      upstream.destroy();
      if (res.writableEnded || res.destroyed) return;
      logger.warn('login forwarding failed', { path: req.url, error: e.message });
      if (!res.headersSent) {
        sendJson(res, 502, {
          error: 'broker_unavailable',
          message: 'the connection broker did not answer',
        });
      } else {
        res.destroy();
      }
    };
    // The request body may be sent long before the answer comes: watch the request itself.
    upstream.on('error', fail);
    pipeline(req, upstream, (e) => {
      if (e) fail(e);
    });
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path === PING_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': 2,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (!broker) {
      sendJson(res, 404, {
        error: 'not_found',
        message: 'login forwarding is off on this gateway',
      });
      return;
    }
    if (!url.startsWith('/')) {
      sendJson(res, 400, { error: 'bad_request', message: 'the request target must be a path' });
      return;
    }
    forward(req, res, new URL(`${basePath}${url}`, broker.origin));
  });
  server.on('close', () => agent.destroy());
  server.headersTimeout = 20_000;
  return server;
}
