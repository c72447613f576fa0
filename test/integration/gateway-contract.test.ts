/**
 * The gateway control API's contract (functions/core/gateways/control-contract.ts), from both
 * sides: a real gateway answers every call in the shapes the contract gives, exactly as the
 * README's "Gateway control API" spells it out (a probe written from the README alone: the
 * signed string built by hand here); the broker's client refuses an answer outside it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGatewayControl } from '../../functions/adapters/gateway/gateway-client.ts';
import { createLogger } from '../../functions/adapters/logger.ts';
import { GatewayUnavailableError } from '../../functions/core/errors.ts';
import {
  CONTROL_CALLS,
  closeForwardSchema,
  controlErrorSchema,
  forwardListSchema,
  gatewayInfoSchema,
  openForwardSchema,
} from '../../functions/core/gateways/control-contract.ts';
import { loadGatewayConfig } from '../../functions/gateway/config.ts';
import { type RunningGateway, startGateway } from '../../functions/gateway/gateway.ts';

const SECRET = 'contract-test-gateway-secret-01';
let gateway: RunningGateway;
let base: string;

/** A signed call as the README describes it, with no help from the project's signing code. */
async function call(method: string, path: string, body?: unknown) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const timestamp = String(Date.now());
  const nonce = randomBytes(16).toString('hex');
  const bodyHash = createHash('sha256').update(text).digest('hex');
  const signature = createHmac('sha256', SECRET)
    .update(`${method}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`)
    .digest('hex');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-deskbroker-timestamp': timestamp,
      'x-deskbroker-nonce': nonce,
      'x-deskbroker-signature': signature,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : text,
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

beforeAll(async () => {
  gateway = await startGateway(
    loadGatewayConfig({
      GATEWAY_NAME: 'gw-contract',
      GATEWAY_SECRET: SECRET,
      GATEWAY_BIND: '127.0.0.1',
      GATEWAY_PORT_RANGE: '24100-24120',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_HTTP_BIND: '127.0.0.1',
      GATEWAY_CONTROL_PORT: '0',
      LOG_LEVEL: 'SILENT',
    }),
    { logger: createLogger('gateway', 'SILENT') },
  );
  base = `http://127.0.0.1:${gateway.controlPort}`;
});
afterAll(() => gateway?.stop());

describe('the gateway answers in the contract', () => {
  it('serves every call of the contract with its documented statuses and shapes', async () => {
    const spec = {
      key: 'contract-1',
      desktopHost: '127.0.0.1',
      desktopPort: 3389,
      clientIp: '127.0.0.1',
      expiresAt: Date.now() + 60_000,
    };
    const opened = await call('POST', '/forwards', spec);
    const again = await call('POST', '/forwards', spec);
    const one = await call('GET', '/forwards/contract-1');
    const list = await call('GET', '/forwards');
    const info = await call('GET', '/info');
    const closed = await call('DELETE', '/forwards/contract-1');
    const unknown = await call('DELETE', '/forwards/contract-1');
    const missing = await call('GET', '/forwards/contract-1');
    const bad = await call('POST', '/forwards', { ...spec, clientIp: 'nobody' });

    expect(opened.status).toBe(201);
    expect(again.status).toBe(200);
    openForwardSchema.parse(opened.body);
    openForwardSchema.parse(one.body);
    expect(forwardListSchema.parse(list.body).forwards).toHaveLength(1);
    expect(gatewayInfoSchema.parse(info.body).portRange).toEqual({ from: 24100, to: 24120 });
    expect(closeForwardSchema.parse(closed.body)).toEqual({ closed: true });
    expect(closeForwardSchema.parse(unknown.body)).toEqual({ closed: false });
    expect(missing.status).toBe(404);
    expect(bad.status).toBe(400);
    for (const error of [missing, bad]) controlErrorSchema.parse(error.body);
    // Every status seen is one the contract lists for its call.
    const statuses = (method: string, path: string) =>
      CONTROL_CALLS.find((c) => c.method === method && c.path === path)!
        .statuses as readonly number[];
    expect(statuses('POST', '/forwards')).toEqual(expect.arrayContaining([201, 200, 400]));
    expect(statuses('GET', '/forwards/{key}')).toContain(404);
  });

  it('refuses an unsigned, a forged and a replayed request with 401', async () => {
    const unsigned = await fetch(`${base}/info`);
    const replay = await (async () => {
      const timestamp = String(Date.now());
      const nonce = randomBytes(16).toString('hex');
      const hash = createHash('sha256').update('').digest('hex');
      const signature = createHmac('sha256', SECRET)
        .update(`GET\n/info\n${timestamp}\n${nonce}\n${hash}`)
        .digest('hex');
      const headers = {
        'x-deskbroker-timestamp': timestamp,
        'x-deskbroker-nonce': nonce,
        'x-deskbroker-signature': signature,
      };
      const first = await fetch(`${base}/info`, { headers });
      const second = await fetch(`${base}/info`, { headers });
      const forged = await fetch(`${base}/info`, {
        headers: { ...headers, 'x-deskbroker-nonce': randomBytes(16).toString('hex') },
      });
      return [first.status, second.status, forged.status];
    })();

    expect(unsigned.status).toBe(401);
    controlErrorSchema.parse(await unsigned.json());
    expect(replay).toEqual([200, 401, 401]);
  });
});

describe('the broker client holds a gateway to the contract', () => {
  let fake: Server;
  let fakeUrl: string;

  beforeAll(async () => {
    // A gateway that answers /info with a wrong shape and /forwards with a list of junk.
    fake = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        req.url === '/info'
          ? JSON.stringify({ version: 1, forwards: 'many' })
          : JSON.stringify({ forwards: [{ key: 'k' }] }),
      );
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

  it('refuses answers outside the contract as an unavailable gateway', async () => {
    const client = new HttpGatewayControl({ secret: SECRET, timeoutMs: 1000 });
    const endpoint = { name: 'odd', controlUrl: fakeUrl };

    const info = await client.info(endpoint).catch((e: unknown) => e);
    const list = await client.list(endpoint).catch((e: unknown) => e);

    expect(info).toBeInstanceOf(GatewayUnavailableError);
    expect((info as Error).message).toMatch(/outside the contract/);
    expect(list).toBeInstanceOf(GatewayUnavailableError);
  });

  it('reads a real gateway through the same schemas', async () => {
    const client = new HttpGatewayControl({ secret: SECRET, timeoutMs: 1000 });
    const info = await client.info({ name: 'gw-contract', controlUrl: base });
    expect(info).toMatchObject({ name: 'gw-contract', state: 'RUNNING', refused: 0 });
  });
});
