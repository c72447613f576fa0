/**
 * The API contract (functions/handlers/api/) is the whole HTTP API: every route a handler
 * serves is a contract entry listed in API_ROUTES, every entry is served by the Lambda it
 * names, and the load balancer's path rules send its path there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminEndpoints } from '../../functions/handlers/admin.ts';
import { agentEndpoints } from '../../functions/handlers/agent.ts';
import { API_ROUTES } from '../../functions/handlers/api/index.ts';
import { gatewayApiEndpoints } from '../../functions/handlers/gateway-api.ts';
import { healthEndpoints } from '../../functions/handlers/health.ts';
import type { Route } from '../../functions/handlers/http/handler.ts';
import { loginEndpoints } from '../../functions/handlers/login.ts';
import { offersEndpoints } from '../../functions/handlers/offers.ts';
import { functionFor } from '../../functions/handlers/routes.ts';
import { routeKey, samplePath } from '../helpers/api-routes.ts';
import { jsonOf, startTestBroker, type TestBroker } from '../helpers/broker.ts';

const key = routeKey;

describe('the API contract', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('lists each route once, and the path rules send it to the Lambda it names', () => {
    expect(new Set(API_ROUTES.map(key)).size).toBe(API_ROUTES.length);
    for (const r of API_ROUTES)
      expect(functionFor(samplePath(r.path))?.name, key(r)).toBe(r.function);
  });

  it('is exactly what the handlers serve, each route in the handler of its Lambda', () => {
    const b = broker.broker;
    const served: [string, Route[]][] = [
      ['health', healthEndpoints(b)],
      ['login', loginEndpoints(b)],
      ['offers', offersEndpoints(b)],
      ['agent', agentEndpoints(b)],
      ['admin', adminEndpoints(b)],
      ['gateway-api', gatewayApiEndpoints(b)],
    ];
    for (const [fn, routes] of served)
      for (const r of routes) expect(r.contract.function, key(r.contract)).toBe(fn);
    const servedKeys = served.flatMap(([, routes]) => routes.map((r) => key(r.contract))).sort();
    expect(servedKeys).toEqual(API_ROUTES.map(key).sort());
  });

  it('answers every route over HTTP (no route falls through to "no such endpoint")', async () => {
    for (const r of API_ROUTES) {
      const res = await broker.fetch(samplePath(r.path), { method: r.method });
      const text = await res.text();
      expect(res.status, `${key(r)}: ${text}`).not.toBe(405);
      expect(text, key(r)).not.toMatch(/no such endpoint/);
    }
  });

  it('describes every route in its OpenAPI 3.1 document, generated from the same schemas', async () => {
    const res = await broker.fetch('/api/v1/openapi.json');
    const doc = await jsonOf(res);

    expect(res.status).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(broker.broker.version);
    const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(described).toEqual(API_ROUTES.map(key).sort());
    for (const r of API_ROUTES) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      expect(op.summary, key(r)).toBe(r.summary);
      expect(op.responses['200'], key(r)).toBeDefined();
      expect(op.responses['400'].content['application/json'].schema, key(r)).toEqual({
        $ref: '#/components/schemas/Error',
      });
      const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const inPath = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path');
      expect(inPath.map((p: { name: string }) => p.name).sort(), key(r)).toEqual(pathParams.sort());
    }
    // The contract's own rules show up: a query parameter's bounds, an enum, a body schema.
    const desktops = doc.paths['/api/v1/admin/desktops'].get;
    const limit = desktops.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
    const status = desktops.parameters.find((p: { name: string }) => p.name === 'status');
    expect(status.schema.enum).toEqual([
      'available',
      'assigned',
      'in use',
      'unreachable',
      'agent silent',
    ]);
    expect(
      doc.paths['/api/v1/login'].post.requestBody.content['application/json'].schema,
    ).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/admin/log'].get.responses['200'].content)).toEqual([
      'application/json',
      'text/csv',
      'application/jsonl',
    ]);
  });
});
