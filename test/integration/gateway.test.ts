/**
 * The gateway program in-process on loopback: forwards to a TCP echo server opened through
 * the broker's client (HttpGatewayControl), the signed control API, ping, login forwarding
 * to a small stand-in broker, start-up recovery, and the CLI's --info / --conn.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGatewayControl } from '../../functions/adapters/gateway/gateway-client.ts';
import { createLogger } from '../../functions/adapters/logger.ts';
import { GatewayUnavailableError } from '../../functions/core/errors.ts';
import type {
  ForwardSpec,
  GatewayEndpoint,
  OpenForward,
} from '../../functions/core/gateways/ports.ts';
import {
  createRequestVerifier,
  LOGIN_TAG_HEADER,
  signLoginTag,
  signRequest,
  verifyLoginTag,
} from '../../functions/core/gateways/signature.ts';
import { type GatewayConfig, loadGatewayConfig } from '../../functions/gateway/config.ts';
import { type RunningGateway, startGateway } from '../../functions/gateway/gateway.ts';
import { testGatewayConfig } from '../helpers/desktops.ts';

const execFileAsync = promisify(execFile);
const secret = randomBytes(24).toString('hex');
// A range of 200 ports away from the default and from the ephemeral range, random per run so
// parallel runs on one machine rarely meet.
const rangeFrom = 24_000 + Math.floor(Math.random() * 40) * 200;
const portRange = { from: rangeFrom, to: rangeFrom + 199 };
const logger = createLogger('gateway-test', 'SILENT');
const control = new HttpGatewayControl({ secret, timeoutMs: 2_000 });

function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  // Two forwarding worker threads; some gateways below run with one (in-thread) instead.
  return testGatewayConfig('gw-test', { secret, portRange, workers: 2, ...overrides });
}

function endpointOf(gateway: RunningGateway, name = 'gw-test'): GatewayEndpoint {
  return { name, controlUrl: `http://127.0.0.1:${gateway.controlPort}` };
}

let keyCounter = 0;
function spec(overrides: Partial<ForwardSpec> = {}): ForwardSpec {
  keyCounter += 1;
  return {
    key: `${randomBytes(12).toString('hex')}${keyCounter}`,
    desktopHost: '127.0.0.1',
    desktopPort: echoPort,
    clientIp: '127.0.0.1',
    expiresAt: Date.now() + 60 * 60_000,
    ...overrides,
  };
}

async function listenTcp(server: TcpServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function listenHttp(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function connectTo(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Sends `data` through the port and reads the echo back; resolves the echoed bytes. */
async function echoThrough(port: number, data: Buffer): Promise<Buffer> {
  const socket = await connectTo(port);
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= data.length) resolve(Buffer.concat(chunks));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${received} bytes`)));
  });
  socket.write(data);
  try {
    return await done;
  } finally {
    socket.destroy();
  }
}

/** Resolves once the far end closes the socket (EOF or reset); with the bytes it received. */
function closed(socket: Socket): Promise<{ bytes: number }> {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.on('error', () => {});
  return new Promise((resolve) => {
    const done = () => {
      socket.destroy();
      resolve({ bytes });
    };
    if (socket.destroyed || socket.readableEnded) done();
    else {
      socket.once('end', done);
      socket.once('close', done);
    }
  });
}

async function portRefuses(port: number): Promise<boolean> {
  try {
    const socket = await connectTo(port);
    socket.destroy();
    return false;
  } catch (e: unknown) {
    return (e as { code?: string }).code === 'ECONNREFUSED';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(25);
  }
}

// The desktop: a TCP echo server.
let echoServer: TcpServer;
let echoPort: number;
let echoAccepted = 0;

// The half-close desktop: reads to EOF, then answers with the byte count and closes.
let countServer: TcpServer;
let countPort: number;

// The stand-in broker: records requests, answers logins, serves the forward list.
interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let broker: Server;
let brokerUrl: string;
const brokerRequests: Recorded[] = [];
let brokerForwards: OpenForward[] = [];
let brokerListFailures = 0;
const brokerVerifier = createRequestVerifier({ secret });

let gateway: RunningGateway;
let endpoint: GatewayEndpoint;

beforeAll(async () => {
  echoServer = createTcpServer((socket) => {
    echoAccepted++;
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  echoPort = await listenTcp(echoServer);

  countServer = createTcpServer({ allowHalfOpen: true }, (socket) => {
    let count = 0;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      count += chunk.length;
    });
    socket.on('end', () => {
      socket.end(`got ${count} bytes, bye`);
    });
  });
  countPort = await listenTcp(countServer);

  broker = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    brokerRequests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
    });
    if (req.url?.startsWith('/api/v1/gateway/forwards')) {
      const verdict = await brokerVerifier.verify({
        method: req.method ?? '',
        path: req.url,
        body,
        headers: req.headers,
      });
      if (!verdict.ok) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'unauthorized', message: verdict.reason }));
        return;
      }
      if (brokerListFailures > 0) {
        brokerListFailures--;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'starting', message: 'not yet' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ forwards: brokerForwards }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': ['a=1; HttpOnly', 'b=2; HttpOnly'],
    });
    res.end(JSON.stringify({ ok: true, echoed: body }));
  });
  brokerUrl = `http://127.0.0.1:${await listenHttp(broker)}`;

  gateway = await startGateway(gatewayConfig(), { logger });
  endpoint = endpointOf(gateway);
});

afterAll(async () => {
  await gateway?.stop();
  echoServer?.close();
  countServer?.close();
  broker?.closeAllConnections();
  broker?.close();
});

describe('configuration', () => {
  it('needs GATEWAY_SECRET of 16 characters and names a wrong variable', () => {
    expect(() => loadGatewayConfig({})).toThrow(/GATEWAY_SECRET/);
    expect(() => loadGatewayConfig({ GATEWAY_SECRET: 'short' })).toThrow(/GATEWAY_SECRET.*16/);
    expect(() =>
      loadGatewayConfig({ GATEWAY_SECRET: secret, GATEWAY_PORT_RANGE: '23000-20001' }),
    ).toThrow(/GATEWAY_PORT_RANGE/);
    expect(() => loadGatewayConfig({ GATEWAY_SECRET: secret, BROKER_URL: 'ftp://x' })).toThrow(
      /BROKER_URL/,
    );
    const config = loadGatewayConfig({ GATEWAY_SECRET: secret, BROKER_URL: 'http://b:8080/' });
    expect(config.portRange).toEqual({ from: 20001, to: 23000 });
    expect(config.httpPort).toBe(8443);
    expect(config.controlPort).toBe(9443);
    expect(config.idleSeconds).toBe(3600);
    expect(config.workers).toBe(1);
    expect(config.controlBind).toBe('127.0.0.1');
    expect(config.brokerUrl).toBe('http://b:8080');
  });
});

describe('ping', () => {
  it('answers OK as text/plain', async () => {
    const res = await fetch(`http://127.0.0.1:${gateway.httpPort}/app/system/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('OK');
  });

  it('is the only path when login forwarding is off', async () => {
    const res = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/v1/login`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('forwards', () => {
  it('carries several MB both ways, unchanged', async () => {
    const forward = await control.open(endpoint, spec());
    expect(forward.listenPort).toBeGreaterThanOrEqual(portRange.from);
    expect(forward.listenPort).toBeLessThanOrEqual(portRange.to);
    expect(forward.connections).toBe(0);
    const data = randomBytes(8 * 1024 * 1024);
    const echoed = await echoThrough(forward.listenPort, data);
    expect(echoed.length).toBe(data.length);
    expect(sha256(echoed)).toBe(sha256(data));
    const info = await control.info(endpoint);
    expect(info.bytesFromClients).toBeGreaterThanOrEqual(data.length);
    await control.close(endpoint, forward.key);
  });

  it('re-opening the same key returns the same port', async () => {
    const s = spec();
    const first = await control.open(endpoint, s);
    const again = await control.open(endpoint, { ...s, expiresAt: s.expiresAt + 60_000 });
    expect(again.listenPort).toBe(first.listenPort);
    expect(again.expiresAt).toBe(s.expiresAt + 60_000);
    const listed = (await control.list(endpoint)).filter((f) => f.key === s.key);
    expect(listed).toHaveLength(1);
    await expect(control.open(endpoint, { ...s, desktopPort: 22 })).rejects.toMatchObject({
      gatewayStatus: 409,
      gatewayCode: 'forward_conflict',
    });
    await control.close(endpoint, s.key);
  });

  it('opens on a requested port, and refuses one outside the range', async () => {
    const wanted = portRange.to - 3;
    const forward = await control.open(endpoint, spec({ listenPort: wanted }));
    expect(forward.listenPort).toBe(wanted);
    await expect(control.open(endpoint, spec({ listenPort: wanted }))).rejects.toMatchObject({
      gatewayStatus: 409,
      gatewayCode: 'port_in_use',
    });
    await expect(
      control.open(endpoint, spec({ listenPort: portRange.to + 1 })),
    ).rejects.toMatchObject({ gatewayStatus: 400, gatewayCode: 'port_out_of_range' });
    await control.close(endpoint, forward.key);
  });

  it('passes a half-close through and keeps the other direction open', async () => {
    const forward = await control.open(endpoint, spec({ desktopPort: countPort }));
    const socket = await connectTo(forward.listenPort);
    const reply: Buffer[] = [];
    socket.on('data', (c: Buffer) => reply.push(c));
    const ended = once(socket, 'end');
    socket.write(randomBytes(300_000));
    socket.end();
    await ended;
    expect(Buffer.concat(reply).toString()).toBe('got 300000 bytes, bye');
    await control.close(endpoint, forward.key);
  });

  it('refuses a connection from another source address (127.0.0.2)', async () => {
    const forward = await control.open(endpoint, spec());
    const acceptedBefore = echoAccepted;
    const infoBefore = await control.info(endpoint);
    const stranger = await connectTo(forward.listenPort, '127.0.0.2').catch((e: unknown) => e);
    if (stranger instanceof Error) {
      // Reset before the connect completed: refused all the same.
      expect((stranger as { code?: string }).code).toMatch(/ECONNRESET|ECONNREFUSED/);
    } else {
      const result = closed(stranger as Socket);
      (stranger as Socket).write('hello?');
      expect((await result).bytes).toBe(0);
    }
    const infoAfter = await control.info(endpoint);
    expect(infoAfter.refused).toBe(infoBefore.refused + 1);
    expect(echoAccepted).toBe(acceptedBefore);
    // The client's own address still gets through.
    const echoed = await echoThrough(forward.listenPort, Buffer.from('still works'));
    expect(echoed.toString()).toBe('still works');
    await control.close(endpoint, forward.key);
  });

  it('matches IPv4-mapped IPv6 addresses on a dual-stack listener', async () => {
    const from = portRange.to - 19;
    const dual = await startGateway(
      gatewayConfig({ name: 'gw-dual', bind: '::', portRange: { from, to: from + 4 }, workers: 1 }),
      { logger },
    );
    try {
      const ep = endpointOf(dual, 'gw-dual');
      const forward = await control.open(ep, spec({ clientIp: '::ffff:127.0.0.1' }));
      expect(forward.clientIp).toBe('127.0.0.1');
      // Seen as ::ffff:127.0.0.1 by the dual-stack listener, allowed after normalising.
      const echoed = await echoThrough(forward.listenPort, Buffer.from('mapped'));
      expect(echoed.toString()).toBe('mapped');
      const stranger = await connectTo(forward.listenPort, '127.0.0.2').catch(() => undefined);
      if (stranger) expect((await closed(stranger)).bytes).toBe(0);
      expect((await control.info(ep)).refused).toBe(1);
    } finally {
      await dual.stop();
    }
  });

  it('closing a forward closes its connections and its port', async () => {
    const forward = await control.open(endpoint, spec());
    const socket = await connectTo(forward.listenPort);
    await echoThroughSocket(socket, 'ping');
    await waitFor(async () =>
      (await control.list(endpoint)).some((f) => f.key === forward.key && f.connections === 1),
    );
    const done = closed(socket);
    await control.close(endpoint, forward.key);
    await done;
    expect(await portRefuses(forward.listenPort)).toBe(true);
    expect((await control.list(endpoint)).some((f) => f.key === forward.key)).toBe(false);
    // Closing an unknown key is not an error.
    await expect(control.close(endpoint, forward.key)).resolves.toBeUndefined();
  });

  it('closes at expiry', async () => {
    const forward = await control.open(endpoint, spec({ expiresAt: Date.now() + 600 }));
    const socket = await connectTo(forward.listenPort);
    await echoThroughSocket(socket, 'before expiry');
    const done = closed(socket);
    await done;
    expect(await portRefuses(forward.listenPort)).toBe(true);
    expect((await control.list(endpoint)).some((f) => f.key === forward.key)).toBe(false);
  });

  it('refuses a forward that has already expired', async () => {
    await expect(control.open(endpoint, spec({ expiresAt: Date.now() - 1 }))).rejects.toMatchObject(
      { gatewayStatus: 400, gatewayCode: 'forward_expired' },
    );
  });

  it('closes idle connections and keeps the forward', async () => {
    const forward = await control.open(endpoint, spec({ idleSeconds: 1 }));
    const socket = await connectTo(forward.listenPort);
    await echoThroughSocket(socket, 'then silence');
    const started = Date.now();
    await closed(socket);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const echoed = await echoThrough(forward.listenPort, Buffer.from('new connection'));
    expect(echoed.toString()).toBe('new connection');
    await control.close(endpoint, forward.key);
  });

  it("uses every worker's share of the range, then says the ports are exhausted", async () => {
    const from = portRange.to - 9;
    const small = await startGateway(
      gatewayConfig({ name: 'gw-small', portRange: { from, to: from + 3 }, workers: 2 }),
      { logger },
    );
    try {
      const ep = endpointOf(small, 'gw-small');
      const ports = [];
      for (let i = 0; i < 4; i++) ports.push((await control.open(ep, spec())).listenPort);
      expect(ports.sort()).toEqual([from, from + 1, from + 2, from + 3]);
      await expect(control.open(ep, spec())).rejects.toMatchObject({
        gatewayStatus: 503,
        gatewayCode: 'gateway_ports_exhausted',
      });
      expect((await control.info(ep)).forwards).toBe(4);
    } finally {
      await small.stop();
    }
  });

  it('holds many forwards at once', async () => {
    const specs = Array.from({ length: 150 }, () => spec());
    const opened = await Promise.all(specs.map((s) => control.open(endpoint, s)));
    expect(new Set(opened.map((f) => f.listenPort)).size).toBe(150);
    const echoed = await echoThrough(opened[149]!.listenPort, Buffer.from('last one'));
    expect(echoed.toString()).toBe('last one');
    await Promise.all(specs.map((s) => control.close(endpoint, s.key)));
    expect(await control.list(endpoint)).toEqual([]);
  });
});

async function echoThroughSocket(socket: Socket, text: string): Promise<void> {
  const got = new Promise<string>((resolve) =>
    socket.once('data', (c: Buffer) => resolve(c.toString())),
  );
  socket.write(text);
  expect(await got).toBe(text);
}

describe('control API security', () => {
  const base = () => `http://127.0.0.1:${gateway.controlPort}`;

  it('refuses unsigned requests with 401 JSON', async () => {
    for (const [method, path] of [
      ['GET', '/info'],
      ['GET', '/forwards'],
      ['POST', '/forwards'],
      ['DELETE', '/forwards/abc'],
    ] as const) {
      const res = await fetch(`${base()}${path}`, {
        method,
        body: method === 'POST' ? JSON.stringify(spec()) : undefined,
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.error).toBe('unauthorized');
      expect(typeof body.message).toBe('string');
    }
    expect(await control.list(endpoint)).toEqual([]);
  });

  it('refuses a replayed request', async () => {
    const body = JSON.stringify(spec());
    const headers = {
      ...signRequest({ secret, method: 'POST', path: '/forwards', body }),
      'content-type': 'application/json',
    };
    const first = await fetch(`${base()}/forwards`, { method: 'POST', headers, body });
    expect(first.status).toBe(201);
    const opened = (await first.json()) as OpenForward;
    await control.close(endpoint, opened.key);
    const replay = await fetch(`${base()}/forwards`, { method: 'POST', headers, body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'unauthorized' });
    expect((await control.list(endpoint)).some((f) => f.key === opened.key)).toBe(false);
  });

  it('refuses forged requests and tampered bodies', async () => {
    const body = JSON.stringify(spec());
    const forged = signRequest({
      secret: 'the-wrong-secret-entirely',
      method: 'POST',
      path: '/forwards',
      body,
    });
    const res = await fetch(`${base()}/forwards`, { method: 'POST', headers: forged, body });
    expect(res.status).toBe(401);
    const signed = signRequest({ secret, method: 'POST', path: '/forwards', body });
    const tampered = body.replace('127.0.0.1', '10.9.9.9');
    const res2 = await fetch(`${base()}/forwards`, {
      method: 'POST',
      headers: signed,
      body: tampered,
    });
    expect(res2.status).toBe(401);
    const wrongClient = new HttpGatewayControl({ secret: 'the-wrong-secret-entirely' });
    const error = await wrongClient.info(endpoint).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ code: 'gateway_unavailable', status: 503, gatewayStatus: 401 });
  });

  it('answers bad JSON and bad fields with 400, never a stack trace', async () => {
    const post = async (body: string) => {
      const headers = signRequest({ secret, method: 'POST', path: '/forwards', body });
      const res = await fetch(`${base()}/forwards`, { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const bad = await post('{not json');
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    const field = await post(JSON.stringify({ ...spec(), desktopPort: 70_000 }));
    expect(field.status).toBe(400);
    expect(field.body.error).toBe('invalid_forward');
    expect(field.body.message).toMatch(/desktopPort/);
    const ip = await post(JSON.stringify({ ...spec(), clientIp: 'not-an-ip' }));
    expect(ip.body.message).toMatch(/clientIp/);
    for (const r of [bad, field, ip]) expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts/);
  });

  it('maps no answer and timeouts to GatewayUnavailableError', async () => {
    const silent = createTcpServer(() => {});
    const silentPort = await listenTcp(silent);
    const quick = new HttpGatewayControl({ secret, timeoutMs: 200 });
    const started = Date.now();
    const timedOut = await quick
      .ping({ name: 'slow', controlUrl: `http://127.0.0.1:${silentPort}` })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(timedOut).toBeInstanceOf(GatewayUnavailableError);
    expect((timedOut as Error).message).toMatch(/slow.*200 ms/);
    silent.close();
    const refused = await quick
      .list({ name: 'gone', controlUrl: `http://127.0.0.1:${silentPort}` })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayUnavailableError);
  });
});

describe('login forwarding', () => {
  let forwarding: RunningGateway;

  beforeAll(async () => {
    brokerForwards = [];
    forwarding = await startGateway(gatewayConfig({ name: 'gw-login', brokerUrl, workers: 1 }), {
      logger,
      syncInitialDelayMs: 20,
    });
    await forwarding.sync?.done;
  });

  afterAll(async () => {
    await forwarding?.stop();
  });

  it('adds a valid login tag, strips a forged one, appends X-Forwarded-For', async () => {
    const forged = signLoginTag({
      secret: 'attacker-made-this-up',
      gateway: 'gw-login',
      clientIp: '6.6.6.6',
    });
    brokerRequests.length = 0;
    const res = await fetch(`http://127.0.0.1:${forwarding.httpPort}/api/v1/login?x=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [LOGIN_TAG_HEADER]: forged,
        'x-forwarded-for': '203.0.113.9',
      },
      body: JSON.stringify({ username: 'alice', password: 'pw' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, echoed: '{"username":"alice","password":"pw"}' });
    expect(res.headers.getSetCookie()).toEqual(['a=1; HttpOnly', 'b=2; HttpOnly']);
    const seen = brokerRequests.find((r) => r.url === '/api/v1/login?x=1');
    expect(seen).toBeDefined();
    expect(seen!.method).toBe('POST');
    const tag = seen!.headers[LOGIN_TAG_HEADER];
    expect(tag).not.toBe(forged);
    // A registering gateway (the default) vouches for its tags too (GATEWAY_TAGS: default).
    expect(verifyLoginTag({ secret, value: tag })).toEqual({
      gateway: 'gw-login',
      clientIp: '127.0.0.1',
      tags: ['default'],
    });
    expect(seen!.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  it('forwards in the main thread when configured with one worker', async () => {
    expect(forwarding.workers).toBe(1);
    const ep = endpointOf(forwarding, 'gw-login');
    const forward = await control.open(ep, spec());
    const data = randomBytes(2 * 1024 * 1024);
    expect(sha256(await echoThrough(forward.listenPort, data))).toBe(sha256(data));
    const stranger = await connectTo(forward.listenPort, '127.0.0.2').catch(() => undefined);
    if (stranger) expect((await closed(stranger)).bytes).toBe(0);
    expect((await control.info(ep)).refused).toBe(1);
    await control.close(ep, forward.key);
    expect(await portRefuses(forward.listenPort)).toBe(true);
  });

  it('takes the client IP from X-Forwarded-For only behind a trusted proxy', async () => {
    const behindLb = await startGateway(
      gatewayConfig({ name: 'gw-lb', brokerUrl, trustedProxies: ['127.0.0.0/8'] }),
      { logger, syncInitialDelayMs: 20 },
    );
    try {
      brokerRequests.length = 0;
      await fetch(`http://127.0.0.1:${behindLb.httpPort}/api/v1/offers`, {
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      const seen = brokerRequests.find((r) => r.url === '/api/v1/offers');
      expect(verifyLoginTag({ secret, value: seen!.headers[LOGIN_TAG_HEADER] })).toEqual({
        gateway: 'gw-lb',
        clientIp: '198.51.100.7',
        tags: ['default'],
      });
    } finally {
      await behindLb.stop();
    }
  });

  it('answers 502 JSON when the broker does not answer', async () => {
    const dead = createTcpServer();
    const deadPort = await listenTcp(dead);
    dead.close();
    const orphan = await startGateway(
      gatewayConfig({ name: 'gw-orphan', brokerUrl: `http://127.0.0.1:${deadPort}` }),
      { logger, syncInitialDelayMs: 60_000 },
    );
    try {
      const res = await fetch(`http://127.0.0.1:${orphan.httpPort}/api/v1/login`, {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: 'broker_unavailable' });
      const ping = await fetch(`http://127.0.0.1:${orphan.httpPort}/app/system/ping`);
      expect(await ping.text()).toBe('OK');
    } finally {
      await orphan.stop();
    }
  });
});

describe('restart', () => {
  it('re-opens the broker-listed forwards on their ports', async () => {
    brokerForwards = [];
    const config = gatewayConfig({ name: 'gw-restart', brokerUrl });
    const first = await startGateway(config, { logger, syncInitialDelayMs: 20 });
    expect(first.workers).toBe(2);
    await first.sync?.done;
    const a = await control.open(endpointOf(first, 'gw-restart'), spec());
    const b = await control.open(endpointOf(first, 'gw-restart'), spec({ desktopPort: countPort }));
    // The broker knows both (it recorded them when it opened them), plus one already expired.
    brokerForwards = [
      a,
      b,
      { ...a, key: 'expired-one', listenPort: a.listenPort + 1, expiresAt: Date.now() - 1 },
    ];
    await first.stop();
    expect(await portRefuses(a.listenPort)).toBe(true);

    brokerListFailures = 2; // the broker is "not up yet" twice: the gateway retries
    brokerRequests.length = 0;
    // Restarted with another number of threads: each forward still lands on its old port.
    const second = await startGateway(
      { ...config, workers: 3 },
      { logger, syncInitialDelayMs: 20 },
    );
    try {
      const result = await second.sync?.done;
      expect(result).toEqual({ reopened: 2, skipped: 1 });
      const listRequests = brokerRequests.filter((r) =>
        r.url.startsWith('/api/v1/gateway/forwards'),
      );
      expect(listRequests).toHaveLength(3);
      expect(listRequests[0]!.url).toBe('/api/v1/gateway/forwards?gateway=gw-restart');
      const reopened = await control.list(endpointOf(second, 'gw-restart'));
      expect(reopened.map((f) => [f.key, f.listenPort]).sort()).toEqual(
        [
          [a.key, a.listenPort],
          [b.key, b.listenPort],
        ].sort(),
      );
      const echoed = await echoThrough(a.listenPort, Buffer.from('after restart'));
      expect(echoed.toString()).toBe('after restart');
      expect((await control.info(endpointOf(second, 'gw-restart'))).brokerSync).toBe('done');
    } finally {
      await second.stop();
      brokerForwards = [];
    }
  });
});

describe('CLI', () => {
  const cli = 'functions/gateway/cli.ts';
  const envFor = (controlPort: number, extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    GATEWAY_SECRET: secret,
    GATEWAY_NAME: 'gw-test',
    GATEWAY_CONTROL_PORT: String(controlPort),
    GATEWAY_CONTROL_BIND: '127.0.0.1',
    GATEWAY_PORT_RANGE: `${portRange.from}-${portRange.to}`,
    LOG_LEVEL: 'SILENT',
    ...extra,
  });

  it('--info prints the state of the running gateway', async () => {
    const forward = await control.open(endpoint, spec());
    const socket = await connectTo(forward.listenPort);
    await echoThroughSocket(socket, 'live');
    try {
      const { stdout } = await execFileAsync(process.execPath, [cli, '--info'], {
        env: envFor(gateway.controlPort),
      });
      const lines = stdout.trim().split('\n');
      expect(lines).toContain(`Port range is ${portRange.from}-${portRange.to}`);
      expect(lines).toContain('Gateway version is 0.1.0');
      expect(lines).toContain('Connection Broker forwarding is OFF');
      expect(lines).toContain('1 forward(s) with 1 live connection(s)');
      // The counters GET /info returns, as they stand (no connection came since).
      const counters = await control.info(endpoint);
      expect(counters.accepted).toBeGreaterThan(0);
      expect(lines).toContain(
        `Connections since start: ${counters.accepted} accepted, ${counters.refused} refused (from another address than the forward's client)`,
      );
      expect(lines.at(-1)).toBe('The Gateway is RUNNING');
    } finally {
      socket.destroy();
      await control.close(endpoint, forward.key);
    }
  });

  it('--conn lists the forwards like the guide', async () => {
    const forward = await control.open(endpoint, spec({ desktopPort: countPort }));
    try {
      const { stdout } = await execFileAsync(process.execPath, [cli, '--conn'], {
        env: envFor(gateway.controlPort),
      });
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^Desktop\s+Port\s+Dport\s+Source address\s+Key$/);
      expect(lines[1]).toMatch(/^-----\s+-----\s+-----\s+-----\s+-----$/);
      expect(lines[2]!.split(/\s+/)).toEqual([
        '127.0.0.1',
        String(forward.listenPort),
        String(countPort),
        '127.0.0.1',
        forward.key,
      ]);
      expect(lines).toHaveLength(3);
    } finally {
      await control.close(endpoint, forward.key);
    }
  });

  it('--info says NOT RUNNING when no gateway answers', async () => {
    const dead = createTcpServer();
    const deadPort = await listenTcp(dead);
    dead.close();
    const result = await execFileAsync(process.execPath, [cli, '--info'], {
      env: envFor(deadPort),
    }).catch((e: { code: number; stdout: string }) => e);
    expect((result as { code?: number }).code).toBe(1);
    expect(result.stdout).toMatch(/The Gateway is NOT RUNNING/);
  });

  it('runs the gateway and stops cleanly on SIGTERM', async () => {
    const free = async () => {
      const s = createTcpServer();
      const p = await listenTcp(s);
      s.close();
      return p;
    };
    const [controlPort, httpPort] = [await free(), await free()];
    const child = spawn(process.execPath, [cli], {
      env: envFor(controlPort, {
        GATEWAY_HTTP_PORT: String(httpPort),
        GATEWAY_HTTP_BIND: '127.0.0.1',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      await waitFor(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${httpPort}/app/system/ping`)).ok;
        } catch {
          return false;
        }
      }, 10_000);
      const { stdout } = await execFileAsync(process.execPath, [cli, '--info'], {
        env: envFor(controlPort),
      });
      expect(stdout).toMatch(/The Gateway is RUNNING/);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
