/**
 * Bad input on every route of the API contract (walked from API_ROUTES, so a new route is
 * covered by default): malformed percent-escapes in each path parameter and in the query,
 * and text the site database cannot store (NUL, lone surrogates) in the path, the query, the
 * JSON body and the headers, all answer 400 `{ error, message }`, never a 500.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/handlers/api/index.ts';
import type { ApiRoute } from '../../functions/handlers/api/route.ts';
import { lambdaContext } from '../../functions/local/alb-server.ts';
import { buildHandlers } from '../../functions/local/runtime.ts';
import { albEvent } from '../helpers/alb-events.ts';
import { routeKey } from '../helpers/api-routes.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { request } from '../helpers/http.ts';

/** Malformed escapes: not hex, and a UTF-8 sequence cut short. */
const MALFORMED = ['%zz', '%E0%A4%A'] as const;
/** An escape that decodes to text PostgreSQL cannot store (a lone surrogate has no valid UTF-8 escape). */
const UNSTORABLE = ['a%00b'] as const;

const paramsOf = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
/** The path with `name` set to `value` and every other parameter to a plausible id. */
const pathWith = (path: string, name: string, value: string) =>
  path.replace(/\{([^}]+)\}/g, (_, p: string) => (p === name ? value : '1'));
const fill = (path: string) => path.replace(/\{[^}]+\}/g, '1');
/** A query key the route takes (so the value is really read), or any key for routes without one. */
const queryKeyOf = (r: ApiRoute) => Object.keys(r.query?.shape ?? {})[0] ?? 'x';

describe('bad input on every route', () => {
  let broker: TestBroker;
  let token: string;
  const call = (r: ApiRoute, pathAndQuery: string, body?: string) =>
    request(`${broker.url}${pathAndQuery}`, {
      method: r.method,
      token,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body,
    });
  /** 400 with the error body (HEAD answers carry no body). */
  const expect400 = (
    r: ApiRoute,
    answer: Awaited<ReturnType<typeof call>>,
    error: string,
    what: string,
  ) => {
    expect(answer.status, `${routeKey(r)} ${what}: ${answer.text}`).toBe(400);
    if (r.method === 'HEAD') return;
    expect(answer.body, `${routeKey(r)} ${what}`).toEqual({ error, message: expect.any(String) });
  };

  beforeAll(async () => {
    broker = await startTestBroker({ local: { demo: false } });
    token = await broker.adminToken();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('walks every route (the table is not empty, and has routes with path parameters)', () => {
    expect(API_ROUTES.length).toBeGreaterThan(10);
    expect(API_ROUTES.filter((r) => paramsOf(r.path).length > 0).length).toBeGreaterThan(2);
  });

  it('answers 400 bad_encoding for a malformed escape in each path parameter', async () => {
    for (const r of API_ROUTES) {
      for (const name of paramsOf(r.path)) {
        for (const bad of MALFORMED) {
          const answer = await call(r, pathWith(r.path, name, bad));
          expect400(r, answer, 'bad_encoding', `${name}=${bad}`);
          if (r.method !== 'HEAD') expect(answer.body.message).toContain(name);
        }
      }
    }
  });

  it('answers 400 bad_encoding for a malformed escape in a query value or key', async () => {
    for (const r of API_ROUTES) {
      const key = queryKeyOf(r);
      for (const bad of MALFORMED) {
        expect400(r, await call(r, `${fill(r.path)}?${key}=${bad}`), 'bad_encoding', `?${key}`);
        expect400(r, await call(r, `${fill(r.path)}?${bad}=1`), 'bad_encoding', 'query key');
      }
    }
  });

  it('routes the path as it came: the local load balancer resolves no dot segments', async () => {
    // As the ALB: `/api/v1/offers/../admin/config` is an offers path, not the admin API.
    // (A URL string would be normalised by the client itself: send the raw request target.)
    const { port } = new URL(broker.url);
    for (const path of ['/api/v1/offers/../admin/config', '/api/v1/offers/%2e%2e/admin/config']) {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.body)).toEqual({ error: 'not_found', message: expect.any(String) });
    }
  });

  it('answers 400 invalid_text for a NUL in a path parameter or a query value', async () => {
    for (const r of API_ROUTES) {
      for (const name of paramsOf(r.path)) {
        for (const bad of UNSTORABLE)
          expect400(r, await call(r, pathWith(r.path, name, bad)), 'invalid_text', name);
      }
      const key = queryKeyOf(r);
      for (const bad of UNSTORABLE)
        expect400(r, await call(r, `${fill(r.path)}?${key}=${bad}`), 'invalid_text', `?${key}`);
    }
  });

  it('answers 400 invalid_text for a NUL or a lone surrogate in a JSON body', async () => {
    const withBody = API_ROUTES.filter((r) => r.body && r.bodyType !== 'text');
    expect(withBody.length).toBeGreaterThan(3);
    for (const r of withBody) {
      for (const body of ['{"user":"a\\u0000b"}', '{"user":"\\ud800x"}', '{"a\\u0000":"b"}']) {
        expect400(r, await call(r, fill(r.path), body), 'invalid_text', body);
      }
    }
  });

  it('answers 400 invalid_text for a NUL or a lone surrogate in the configuration file', async () => {
    const r = API_ROUTES.find((x) => x.method === 'PUT' && x.path === '/api/v1/admin/config')!;
    for (const body of ['{"roles":[{"name":"a\\u0000"}]}', 'roles: [{ name: "\\0" }]']) {
      const answer = await call(r, r.path, body);
      expect400(r, answer, 'invalid_text', body);
      expect(answer.body.message).toMatch(/^roles\[0\]\.name: must not contain NUL/);
    }
  });

  it('answers 400 invalid_text for a header the database could not store, on every route', async () => {
    // Node's HTTP client will not send such a header; the ALB passes whatever arrives.
    const handlers = buildHandlers(broker.broker);
    for (const r of API_ROUTES) {
      for (const value of ['agent\u0000x', 'agent\uDC00']) {
        const event = albEvent({
          method: r.method,
          path: fill(r.path),
          headers: { authorization: `Bearer ${token}`, 'user-agent': value },
        });
        const result = await handlers[r.function]!(event, lambdaContext(r.function));
        expect(result.statusCode, `${routeKey(r)} ${JSON.stringify(value)}`).toBe(400);
        if (r.method !== 'HEAD')
          expect(JSON.parse(result.body ?? '')).toEqual({
            error: 'invalid_text',
            message: expect.stringMatching(/^header user-agent: /),
          });
      }
    }
  });
});
