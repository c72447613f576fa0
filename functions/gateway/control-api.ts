/**
 * The gateway's control API, for the broker. Every request must be signed with the shared
 * secret (see core/gateways/signature.ts); unsigned, forged, stale or replayed requests get
 * 401 before anything else is looked at. The bodies are the contract's
 * (core/gateways/control-contract.ts), which the broker's client parses with the same schemas:
 *
 * - `POST /forwards` body ForwardSpec → 201 OpenForward (200 when the key was already open)
 * - `GET /forwards/{key}` → 200 OpenForward, 404 when there is none
 * - `DELETE /forwards/{key}` → 200 `{ closed: boolean }` (an unknown key is not an error); the
 *   key of an HTML5 bridge (its ticket id) closes that bridge
 * - `GET /forwards` → 200 `{ forwards: OpenForward[] }`
 * - `GET /info` → 200 GatewayInfo
 *
 * Errors are `{ error, message }` JSON, never a stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../adapters/logger.ts';
import { AppError } from '../core/errors.ts';
import {
  type ControlErrorBody,
  type closeForwardSchema,
  FORWARD_KEY_RE,
  type forwardListSchema,
  forwardSpecSchema,
  type GatewayInfo,
  type OpenForwardBody,
} from '../core/gateways/control-contract.ts';
import { createRequestVerifier, DEFAULT_SIGNATURE_WINDOW_MS } from '../core/gateways/signature.ts';
import type * as z from '../core/zod.ts';
import type { ForwardTable } from './forwarder-pool.ts';
import { sendJson } from './http-json.ts';

export type { GatewayInfo };

/** Answers of the contract, typed by its schemas. */
const answer = {
  forward: (res: ServerResponse, status: 200 | 201, body: OpenForwardBody) =>
    sendJson(res, status, body),
  list: (res: ServerResponse, body: z.output<typeof forwardListSchema>) => sendJson(res, 200, body),
  closed: (res: ServerResponse, body: z.output<typeof closeForwardSchema>) =>
    sendJson(res, 200, body),
  info: (res: ServerResponse, body: GatewayInfo) => sendJson(res, 200, body),
};

/** Largest request body accepted. */
const MAX_BODY_BYTES = 64 * 1024;

function sendError(res: ServerResponse, status: number, error: string, message: string): void {
  const body: ControlErrorBody = { error, message };
  sendJson(res, status, body);
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Makes the control API server (not listening yet).
 * `info` is called for each `GET /info`.
 */
export function createControlApi(options: {
  secret: string;
  forwarder: ForwardTable;
  info: () => Promise<GatewayInfo>;
  logger: Logger;
  windowMs?: number;
}): Server {
  const { forwarder, logger } = options;
  const verifier = createRequestVerifier({
    secret: options.secret,
    windowMs: options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (e: unknown) {
      if (e instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        sendError(
          res,
          413,
          'body_too_large',
          `request bodies are limited to ${MAX_BODY_BYTES} bytes`,
        );
        return;
      }
      throw e;
    }
    const verdict = await verifier.verify({ method, path: target, body, headers: req.headers });
    if (!verdict.ok) {
      logger.warn('control request refused', {
        method,
        path: target,
        reason: verdict.reason,
        remote: req.socket.remoteAddress,
      });
      sendError(
        res,
        401,
        'unauthorized',
        `request refused: ${verdict.reason.replaceAll('_', ' ')}`,
      );
      return;
    }

    const path = new URL(target, 'http://gateway').pathname;
    if (path === '/forwards') {
      if (method === 'GET') return answer.list(res, { forwards: await forwarder.list() });
      if (method === 'POST') return openForward(body, res);
      return methodNotAllowed(res, 'GET, POST');
    }
    if (path.startsWith('/forwards/')) {
      const key = path.slice('/forwards/'.length);
      if (!FORWARD_KEY_RE.test(key)) {
        return sendError(res, 400, 'invalid_key', 'a forward key is 1-128 of A-Z a-z 0-9 _ -');
      }
      if (method === 'DELETE') return answer.closed(res, { closed: await forwarder.close(key) });
      if (method === 'GET') {
        const forward = await forwarder.get(key);
        if (!forward) return sendError(res, 404, 'forward_not_found', `no forward ${key}`);
        return answer.forward(res, 200, forward);
      }
      return methodNotAllowed(res, 'GET, DELETE');
    }
    if (path === '/info') {
      if (method === 'GET') return answer.info(res, await options.info());
      return methodNotAllowed(res, 'GET');
    }
    sendError(res, 404, 'not_found', `no such resource: ${method} ${path}`);
  }

  async function openForward(body: Buffer, res: ServerResponse): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, 400, 'invalid_json', 'the request body is not valid JSON');
    }
    const parsed = forwardSpecSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
      return sendError(res, 400, 'invalid_forward', `${where}${issue.message}`);
    }
    const { forward, created } = await forwarder.open(parsed.data);
    answer.forward(res, created ? 201 : 200, forward);
  }

  function methodNotAllowed(res: ServerResponse, allow: string): void {
    res.setHeader('allow', allow);
    sendError(res, 405, 'method_not_allowed', `allowed here: ${allow}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof AppError) {
        if (!res.headersSent) sendError(res, e.status, e.code, e.message);
        return;
      }
      logger.error('control request failed', { method: req.method, path: req.url, error: e });
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'the gateway could not do that');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
