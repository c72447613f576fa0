/**
 * The local runtime's load balancer: an HTTP server that turns each request into the ALB
 * event a Lambda target receives (multi-value headers mode, as the CDK target groups are
 * configured), calls the handler the route table names, and turns the result back into an
 * HTTP response. X-Forwarded-For gets the peer address appended, as the ALB does. The path
 * and query are passed on as they came, still percent-encoded and not normalised (no dot
 * segments resolved), as the ALB passes them: only the handlers' `endpoint()` decodes.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ALBEvent, Context } from 'aws-lambda';
import type { Logger } from '../adapters/logger.ts';
import { metered } from '../adapters/meter.ts';
import type { AlbHandler } from '../handlers/http/handler.ts';
import { MAX_BODY_BYTES } from '../handlers/http/request.ts';
import type { StreamingAlbResult } from '../handlers/http/response.ts';
import { type FunctionRoute, functionFor } from '../handlers/routes.ts';

export type HandlerTable = Partial<Record<FunctionRoute['name'], AlbHandler>>;

/** The local runtime's response header with the request's site-database round trips. */
export const SQL_ROUND_TRIPS_HEADER = 'x-deskbroker-db-round-trips';
/** The local runtime's response header with the request's DynamoDB requests. */
export const DYNAMODB_CALLS_HEADER = 'x-deskbroker-dynamodb-calls';

export interface AlbServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Content types the ALB passes as text; others arrive base64-encoded. */
const TEXT_TYPES =
  /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|yaml|x-yaml)|[^;]*\+json|[^;]*\+xml)/i;

export async function startAlbServer(options: {
  handlers: HandlerTable;
  host: string;
  port: number;
  logger: Logger;
  /** Answers what no handler serves (the pages, as CloudFront does on AWS); false: 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}): Promise<AlbServer> {
  const server = http.createServer((req, res) => {
    serve(options.handlers, req, res, options.fallback).catch((e: unknown) => {
      options.logger.error('local ALB failed', { error: e as Error });
      if (!res.headersSent) send(res, 502, { error: 'bad_gateway', message: 'the handler failed' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * Reads the body; past the limit it keeps draining (so the client can read the 413) and
 * resolves undefined. A client that sends ten times the limit is cut off.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_BODY_BYTES * 10) req.destroy();
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

async function serve(
  handlers: HandlerTable,
  req: IncomingMessage,
  res: ServerResponse,
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>,
): Promise<void> {
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  const rawQuery = query < 0 ? '' : target.slice(query + 1);
  if (!path.startsWith('/')) {
    send(res, 400, { error: 'bad_request', message: 'the request target must be a path' });
    return;
  }
  const route = functionFor(path);
  const handler = route && handlers[route.name];
  if (!handler) {
    if (fallback && (await fallback(req, res))) return;
    send(res, 404, { error: 'not_found', message: `no such endpoint: ${path.slice(0, 200)}` });
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    send(res, 413, {
      error: 'body_too_large',
      message: `the request body is larger than ${MAX_BODY_BYTES} bytes`,
    });
    return;
  }
  const event = toAlbEvent(req, { path, rawQuery }, body, route.name);
  const { result, meter } = await metered(() => handler(event, lambdaContext(route.name)));
  // Local runtime only: what the request cost the backing services, counted at the transport
  // (budget tests, benchmarks): site-database round trips and DynamoDB requests.
  res.setHeader(SQL_ROUND_TRIPS_HEADER, String(meter.sqlRoundTrips));
  res.setHeader(DYNAMODB_CALLS_HEADER, String(meter.dynamoDbCalls));
  await writeResult(res, result);
}

/** The ALB event for a request, as a multi-value-headers target group sends it. */
export function toAlbEvent(
  req: IncomingMessage,
  target: { readonly path: string; readonly rawQuery: string },
  body: Buffer,
  functionName: string,
): ALBEvent {
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), req.rawHeaders[i + 1]!];
  }
  const peer = req.socket.remoteAddress ?? '';
  const forwarded = multiValueHeaders['x-forwarded-for']?.join(', ');
  multiValueHeaders['x-forwarded-for'] = [forwarded ? `${forwarded}, ${peer}` : peer];
  multiValueHeaders['x-forwarded-proto'] = ['http'];
  multiValueHeaders['x-forwarded-port'] = [String(req.socket.localPort ?? '')];
  multiValueHeaders['x-amzn-trace-id'] ??= [
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
  ];

  // The ALB passes query parameters as they came, still URL-encoded.
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const pair of target.rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    multiValueQueryStringParameters[key] = [...(multiValueQueryStringParameters[key] ?? []), value];
  }

  const contentType = multiValueHeaders['content-type']?.[0] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  return {
    requestContext: {
      elb: {
        targetGroupArn: `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/deskbroker-${functionName}/0`,
      },
    },
    httpMethod: req.method ?? 'GET',
    path: target.path,
    multiValueQueryStringParameters,
    multiValueHeaders,
    body: isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
  };
}

async function writeResult(res: ServerResponse, result: StreamingAlbResult): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
  const body = result.body ?? '';
  const bytes = result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (result.bodyStream) {
    res.writeHead(result.statusCode, headers);
    res.write(bytes);
    await pipeChunks(res, result.bodyStream);
    return;
  }
  headers['content-length'] = String(bytes.length);
  res.writeHead(result.statusCode, headers);
  res.end(bytes);
}

/** Bytes of a streamed body encoded at a time. */
const STREAM_BUFFER_BYTES = 64 * 1024;

/**
 * Sends a streamed body chunk by chunk (chunked transfer encoding). Each chunk is encoded
 * into one reused buffer and the next is pulled only once the socket has flushed the last,
 * so a slow client holds back the producer, and a long download allocates no buffer per
 * chunk (which would linger outside the JS heap until a full garbage collection). A client
 * that goes away stops the producer.
 * @throws whatever the producer throws (the caller cuts the response short and logs it).
 */
async function pipeChunks(res: ServerResponse, chunks: AsyncIterable<string>): Promise<void> {
  const iterator = chunks[Symbol.asyncIterator]();
  const buffer = Buffer.allocUnsafe(STREAM_BUFFER_BYTES);
  const encoder = new TextEncoder();
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  const flush = (bytes: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('close', done);
        resolve();
      };
      res.once('close', done);
      res.write(buffer.subarray(0, bytes), done);
    });
  try {
    for (;;) {
      if (gone) return;
      const { value, done } = await iterator.next();
      if (done) break;
      for (let at = 0; at < value.length && !gone; ) {
        const { read, written } = encoder.encodeInto(value.slice(at), buffer);
        at += read;
        await flush(written);
      }
    }
    res.end();
  } finally {
    // A failure after the status line goes to serve()'s catch, which cuts the response short.
    if (gone) await iterator.return?.();
  }
}

/** The Lambda context the runtime would pass. */
export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `deskbroker-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:deskbroker-${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/deskbroker-${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
