/**
 * The local runtime's `GET /metrics` (Prometheus text format, administrators only) after a
 * scripted sequence on PostgreSQL: the administrator's sign-in, 3 logins, 1 failure,
 * 2 connects, and a leased-mode login while the site database is cut away (through a TCP
 * proxy). The counts must be exactly those; the outbox written in leased mode is replayed
 * and counted once the database is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { clientOf, request } from '../helpers/http.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../helpers/pg.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const PASSWORD = 'metrics-test-password';

/** One sample of a Prometheus exposition: `name{a="b",...} value`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with that name and exactly those labels (0 when absent). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const same = (a: Readonly<Record<string, string>>) =>
    Object.keys(a).length === Object.keys(labels).length &&
    Object.entries(labels).every(([k, v]) => a[k] === v);
  const found = samples.filter((s) => s.name === name && same(s.labels));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears twice`);
  return found[0]?.value ?? 0;
}

/** Every sample of `name`, as `labels → value` text, for whole-family comparisons. */
function family(samples: Sample[], name: string): Record<string, number> {
  return Object.fromEntries(
    samples
      .filter((s) => s.name === name)
      .map((s) => [
        Object.entries(s.labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
        s.value,
      ]),
  );
}

describe('GET /metrics', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let broker: TestBroker;
  let token: string;

  const scrape = async () => {
    const res = await request(`${broker.url}/metrics`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(res.text);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const viaProxy = new URL(databaseUrl(database.name));
    viaProxy.port = String(proxy.port);
    broker = await startTestBroker({
      dbUrl: viaProxy.toString(),
      env: { LOGIN_FAILURE_FLOOR_MS: '0' },
      local: { demo: false },
    });
    token = await broker.adminToken();
    const applied = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token,
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: ['ann', 'bob'].map((name) => ({ name, password: PASSWORD, groups: ['Staff'] })),
        roles: [{ name: 'User' }],
        pools: [
          { name: 'own', desktops: [{ name: 'ann-ws', address: '127.0.0.1', assignedTo: 'ann' }] },
          { name: 'shared', desktops: [{ name: 'shared-1', address: '127.0.0.1' }] },
        ],
        policies: [{ name: 'staff', entries: [{ pool: 'own' }, { pool: 'shared' }] }],
        assignments: [{ group: 'Staff', role: 'User', policy: 'staff' }],
      },
    });
    expect(applied.status, applied.text).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('is for administrators only', async () => {
    const ann = clientOf(broker.url);
    await ann.login({ username: 'ann', password: PASSWORD });
    const anonymous = await request(`${broker.url}/metrics`);
    const user = await ann.call('/metrics');

    expect(anonymous.status).toBe(401);
    expect(user.status).toBe(403);
    expect(user.body.error).toBe('admin_only');
  });

  it('counts exactly the logins, failures, connects and leased-mode requests made', async () => {
    // One login of ann happened in the test above: two more, and bob's.
    const ann = clientOf(broker.url);
    const bob = clientOf(broker.url);
    expect((await ann.login({ username: 'ann', password: PASSWORD })).status).toBe(200);
    const bobLogin = await bob.login({ username: 'bob', password: PASSWORD });
    expect(bobLogin.status).toBe(200);
    const wrong = await clientOf(broker.url).login({ username: 'bob', password: 'wrong-password' });
    expect(wrong.status).toBe(401);
    const annOffers = (await ann.call('/api/v1/offers')).body.offers;
    const own = annOffers.find((o: { name: string }) => o.name === 'ann-ws');
    const shared = bobLogin.body.offers.find((o: { pool: string }) => o.pool === 'shared');
    for (const [who, desktop] of [
      [ann, own],
      [bob, shared],
    ] as const) {
      const connect = await who.call(`/api/v1/offers/${desktop.desktopId}/connect`, {
        method: 'POST',
      });
      expect(connect.status, connect.text).toBe(200);
      expect(connect.body.via).toBe('direct');
    }

    await proxy.cut('refuse');
    try {
      const leased = await clientOf(broker.url).login({ username: 'ann', password: PASSWORD });
      expect(leased.status, leased.text).toBe(200);
      expect(leased.body.mode).toBe('leased');
      // Metrics stay available while the site database is down.
      const samples = await scrape();

      expect(family(samples, 'deskbroker_logins_total')).toEqual({
        'authType=builtin,mode=normal,result=succeeded': 1,
        'authType=local,mode=normal,result=succeeded': 3,
        'authType=local,mode=leased,result=succeeded': 1,
        'authType=none,mode=normal,result=failed': 1,
      });
      expect(family(samples, 'deskbroker_connects_total')).toEqual({
        'mode=normal,via=direct': 2,
      });
      expect(sampleValue(samples, 'deskbroker_leased_requests_total')).toBe(1);
      expect(sampleValue(samples, 'deskbroker_outbox_appended_total')).toBe(1);
      expect(
        sampleValue(samples, 'deskbroker_login_duration_seconds_count', { result: 'succeeded' }),
      ).toBe(5);
      expect(
        sampleValue(samples, 'deskbroker_login_duration_seconds_count', { result: 'failed' }),
      ).toBe(1);
      expect(family(samples, 'deskbroker_releases_total')).toEqual({});
    } finally {
      await proxy.restore();
    }
  });

  it('counts the outbox replay once the site database is back, and the jobs it ran', async () => {
    // The next request that reaches the database closes the breaker and starts the replay.
    await expect
      .poll(
        async () => {
          await clientOf(broker.url).login({ username: 'bob', password: PASSWORD });
          return sampleValue(await scrape(), 'deskbroker_outbox_replayed_total', {
            result: 'applied',
          });
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1);
    const samples = await scrape();
    expect(sampleValue(samples, 'deskbroker_outbox_depth')).toBe(0);
    expect(
      sampleValue(samples, 'deskbroker_jobs_total', { kind: 'heartbeat', outcome: 'finished' }),
    ).toBeGreaterThanOrEqual(1);
  });
});
