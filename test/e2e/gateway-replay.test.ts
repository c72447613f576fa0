/**
 * Replay protection of gateway-signed calls across brokers (issue 14, item 9): two brokers
 * share one state table, as Lambda instances do; a signed request accepted by one is refused
 * by the other. Also the nonce store itself: two verifiers on one table, and expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoNonceStore } from '../../functions/adapters/state/nonce-store.ts';
import {
  createStateTable,
  ensureStateTable,
  type StateTable,
} from '../../functions/adapters/state/state-table.ts';
import { createRequestVerifier, signRequest } from '../../functions/core/gateways/signature.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const SECRET = 'replay-test-gateway-secret-0123456789';
const PATH = '/api/v1/gateway/forwards?gateway=gw1';

describe('gateway-signed calls replayed against another broker', () => {
  let database: TestDatabase;
  let dynamo: EmbeddedDynamo;
  let one: TestBroker;
  let two: TestBroker;

  beforeAll(async () => {
    database = await createTestDatabase();
    dynamo = await startEmbeddedDynamo();
    const env = { GATEWAY_SECRET: SECRET, DYNAMODB_ENDPOINT: dynamo.endpoint };
    one = await startTestBroker({ dbUrl: database.url, env: { ...env, SITE_ID: '1' } });
    two = await startTestBroker({ dbUrl: database.url, env: { ...env, SITE_ID: '2' } });
  }, 60_000);
  afterAll(async () => {
    await two?.stop();
    await one?.stop();
    await dynamo?.close();
    await database?.drop();
  });

  it('accepts a signed request once, and refuses its replay on the other broker', async () => {
    const headers = { ...signRequest({ secret: SECRET, method: 'GET', path: PATH }) };
    const first = await request(`${one.url}${PATH}`, { headers });
    const replayed = await request(`${two.url}${PATH}`, { headers });
    const fresh = await request(`${two.url}${PATH}`, {
      headers: { ...signRequest({ secret: SECRET, method: 'GET', path: PATH }) },
    });

    expect(first.status, first.text).toBe(200);
    expect(replayed.status).toBe(401);
    expect(replayed.body.message).toContain('replayed_nonce');
    expect(fresh.status).toBe(200);
  });
});

describe('DynamoNonceStore', () => {
  let dynamo: EmbeddedDynamo;
  let table: StateTable;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    table = createStateTable({
      tableName: 'nonces',
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
    });
    await ensureStateTable(table);
  });
  afterAll(async () => {
    table?.raw.destroy();
    await dynamo?.close();
  });

  it('lets two verifiers on one table see each other’s nonces', async () => {
    const a = createRequestVerifier({ secret: SECRET, nonces: new DynamoNonceStore(table) });
    const b = createRequestVerifier({ secret: SECRET, nonces: new DynamoNonceStore(table) });
    const now = Date.now();
    const signed = {
      method: 'GET',
      path: '/info',
      headers: signRequest({ secret: SECRET, method: 'GET', path: '/info', now }),
      now,
    };

    expect(await a.verify(signed)).toEqual({ ok: true });
    expect(await b.verify(signed)).toEqual({ ok: false, reason: 'replayed_nonce' });
    expect(await a.verify(signed)).toEqual({ ok: false, reason: 'replayed_nonce' });
  });

  it('counts a nonce whose time is up as gone, even before DynamoDB deletes it', async () => {
    const store = new DynamoNonceStore(table);
    const now = 1_700_000_000_000;
    expect(await store.remember('a'.repeat(32), now + 120_000, now)).toBe('new');
    expect(await store.remember('a'.repeat(32), now + 120_000, now + 60_000)).toBe('seen');
    expect(await store.remember('a'.repeat(32), now + 400_000, now + 121_000)).toBe('new');
  });

  it('refuses the request when the table cannot be asked', async () => {
    const broken = createStateTable({
      tableName: 'missing-table',
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
    });
    const verifier = createRequestVerifier({
      secret: SECRET,
      nonces: new DynamoNonceStore(broken),
    });
    const now = Date.now();
    const verdict = await verifier.verify({
      method: 'GET',
      path: '/info',
      headers: signRequest({ secret: SECRET, method: 'GET', path: '/info', now }),
      now,
    });
    broken.raw.destroy();
    expect(verdict).toEqual({ ok: false, reason: 'nonce_store_unavailable' });
  });
});
