/**
 * Gateways that register themselves, end to end: two `deskbroker-gateway` processes started
 * with only the broker's URL and the gateway secret (no `gateways[]` entry) register; a
 * `fewest` cluster of every registered gateway tagged `default` spreads connects over both;
 * one killed with SIGKILL drops out after three missed renewals while connects go on through
 * the other (and a user whose forward was on it gets a new one on the live gateway); the other
 * stopped with SIGTERM deregisters at once. Renewals carry the gateways' counters to /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_REGISTRATIONS_PATH } from '../../functions/core/gateways/registration-contract.ts';
import { signRequest } from '../../functions/core/gateways/signature.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import {
  type EchoServer,
  echoes,
  startEchoServer,
  TEST_GATEWAY_SECRET,
} from '../helpers/desktops.ts';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.ts';
import { clientOf, request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const PASSWORD = 'registration-test-password';
/** Renewal period of the test gateways: they drop out 3 s after their last renewal. */
const RENEW_SECONDS = 1;

interface Listed {
  name: string;
  source: string;
  status?: string;
  publicAddress: string;
  controlUrl: string;
  tags?: string[];
  lastRenewalAt?: string;
}

describe('gateway registration', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let echo: EchoServer;
  let token: string;
  const gateways = new Map<string, GatewayProcess>();

  const listed = async (): Promise<Listed[]> => {
    const res = await request(`${broker.url}/api/v1/admin/gateways`, { token });
    expect(res.status, res.text).toBe(200);
    return res.body.gateways;
  };
  const statusOf = async (name: string) =>
    (await listed()).find((g) => g.name === name)?.status ?? 'absent';
  const signIn = async (name: string) => {
    const client = clientOf(broker.url);
    const login = await client.login({ username: name, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    return { client, desktopId: login.body.offers[0].desktopId as number };
  };
  const connect = async (user: { client: ReturnType<typeof clientOf>; desktopId: number }) =>
    user.client.call(`/api/v1/offers/${user.desktopId}/connect`, { method: 'POST' });
  const startGateway = (name: string, bind: string, ports: string) => {
    const g = startGatewayProcess(name, {
      GATEWAY_SECRET: TEST_GATEWAY_SECRET,
      BROKER_URL: broker.url,
      GATEWAY_BIND: bind,
      GATEWAY_PORT_RANGE: ports,
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_HTTP_BIND: '127.0.0.1',
      GATEWAY_CONTROL_PORT: '0',
      GATEWAY_CONTROL_BIND: '127.0.0.1',
      GATEWAY_RENEW_SECONDS: String(RENEW_SECONDS),
      LOG_LEVEL: 'INFO',
    });
    gateways.set(name, g);
    return g;
  };

  beforeAll(async () => {
    echo = await startEchoServer();
    database = await createTestDatabase();
    broker = await startTestBroker({
      dbUrl: database.url,
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET },
      local: { demo: false },
    });
    token = await broker.adminToken();
    const applied = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token,
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: ['una', 'vic', 'wes', 'xia'].map((name) => ({
          name,
          password: PASSWORD,
          groups: ['Remote'],
        })),
        roles: [{ name: 'User' }],
        // No gateways[]: the cluster's members are whichever gateways register with the tag.
        gatewayClusters: [{ name: 'auto', mode: 'fewest', tag: 'default' }],
        protocolPlans: [
          { name: 'via-auto', protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'auto' }] },
        ],
        pools: [
          {
            name: 'desks',
            desktops: [1, 2, 3, 4].map((i) => ({ name: `desk-${i}`, address: '127.0.0.1' })),
          },
        ],
        policies: [{ name: 'remote', entries: [{ pool: 'desks', protocolPlan: 'via-auto' }] }],
        // Logins forwarded by a gateway of the tag cluster are in this location.
        locations: [
          {
            name: 'through-auto',
            rules: [{ attribute: 'login_gateway', op: 'is_equal_to', value: 'auto' }],
          },
        ],
        assignments: [{ group: 'Remote', role: 'User', policy: 'remote' }],
      },
    });
    expect(applied.status, applied.text).toBe(200);
  }, 60_000);

  afterAll(async () => {
    for (const g of gateways.values()) await g.signal('SIGKILL');
    await broker?.stop();
    await database?.drop();
    await echo?.close();
  });

  it('refuses a connect while no gateway has registered', async () => {
    const una = await signIn('una');
    const refused = await connect(una);

    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('gateway_unavailable');
    expect(refused.body.message).toContain('no registered gateway with tag "default"');
  });

  it('refuses registrations that are not signed with the gateway secret, or malformed', async () => {
    const path = GATEWAY_REGISTRATIONS_PATH;
    const send = (body: string, secret?: string) =>
      request(`${broker.url}${path}`, {
        method: 'POST',
        body,
        headers: secret ? { ...signRequest({ secret, method: 'POST', path, body }) } : {},
      });
    const valid = JSON.stringify({
      name: 'intruder',
      controlUrl: 'http://127.0.0.1:1',
      portRange: { from: 30000, to: 30010 },
      version: 'x',
      tags: ['default'],
      renewSeconds: 20,
      capacity: { forwards: 11 },
      stats: { forwards: 0, connections: 0, bytesFromClients: 0, bytesToClients: 0 },
    });

    const unsigned = await send(valid);
    const forged = await send(valid, 'not-the-gateway-secret-at-all');
    const malformed = await send(JSON.stringify({ name: 'x' }), TEST_GATEWAY_SECRET);

    expect([unsigned.status, unsigned.body.error]).toEqual([401, 'bad_signature']);
    expect([forged.status, forged.body.error]).toEqual([401, 'bad_signature']);
    expect([malformed.status, malformed.body.error]).toEqual([400, 'invalid_request']);
    expect(await statusOf('intruder')).toBe('absent');
  });

  it('registers two gateways started with only the broker URL and the secret', async () => {
    const a = startGateway('gwa', '127.0.0.1', '31001-31500');
    const b = startGateway('gwb', '127.0.0.3', '31501-32000');
    await Promise.all([a, b].map((g) => g.waitForLog('gateway registered with the broker')));

    const registered = (await listed()).filter((g) => g.source === 'registered');
    expect(registered.map((g) => [g.name, g.status, g.publicAddress, g.tags])).toEqual([
      ['gwa', 'live', '127.0.0.1', ['default']],
      ['gwb', 'live', '127.0.0.3', ['default']],
    ]);
    expect(registered[0]!.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Date.now() - Date.parse(registered[0]!.lastRenewalAt!)).toBeLessThan(
      RENEW_SECONDS * 3000,
    );
    // No entry was added to the site configuration, which keeps its tag cluster as written.
    const config = await request(`${broker.url}/api/v1/admin/config`, { token });
    expect(config.body.gateways).toEqual([]);
    expect(config.body.gatewayClusters).toEqual([
      { name: 'auto', mode: 'fewest', members: [], tag: 'default' },
    ]);
  });

  it('places a login a registered gateway forwarded in the locations of its tag cluster', async () => {
    const running = await gateways.get('gwa')!.waitForLog('gateway running');
    const http = `http://${running.http as string}`;
    const viaGateway = await request(`${http}/api/v1/login`, {
      method: 'POST',
      body: { username: 'xia', password: PASSWORD },
    });
    expect(viaGateway.status, viaGateway.text).toBe(200);
    const direct = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'wes', password: PASSWORD },
    });
    expect(direct.status, direct.text).toBe(200);
    const sessions = await request(`${broker.url}/api/v1/admin/sessions`, { token });
    const of = (user: string) =>
      (
        sessions.body.sessions as {
          user: string;
          loginGateway: string | null;
          locations: string[];
        }[]
      )
        .filter((x) => x.user === user)
        .map((x) => [x.loginGateway, x.locations]);
    expect(of('xia')).toEqual([['gwa', ['through-auto']]]);
    expect(of('wes')).toEqual([[null, []]]);
  });

  it('spreads connects over both (fewest), bytes flow, and renewals bring their counters', async () => {
    const una = await signIn('una');
    const vic = await signIn('vic');
    const first = await connect(una);
    const second = await connect(vic);

    expect(first.status, first.text).toBe(200);
    expect(second.status, second.text).toBe(200);
    expect(new Set([first.body.gateway, second.body.gateway])).toEqual(new Set(['gwa', 'gwb']));
    for (const c of [first.body, second.body]) {
      expect(c.host).toBe(c.gateway === 'gwa' ? '127.0.0.1' : '127.0.0.3');
      expect(await echoes(c.host, c.port, { size: 256 * 1024, from: '127.0.0.1' })).toBe(true);
    }
    await expect
      .poll(
        async () => {
          const res = await request(`${broker.url}/metrics`, { token });
          const bytes =
            /deskbroker_gateway_bytes_total\{gateway="gwa",direction="to_clients"\} (\d+)/.exec(
              res.text,
            );
          return Number(bytes?.[1] ?? 0);
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(256 * 1024);
  });

  it('drops a gateway killed with SIGKILL after the missed renewals; connects go on through the other', async () => {
    const una = await signIn('una');
    const before = await connect(una);
    expect(before.status, before.text).toBe(200);
    const victim = before.body.gateway as string;
    const survivor = victim === 'gwa' ? 'gwb' : 'gwa';
    const lastRenewal = Date.parse((await listed()).find((g) => g.name === victim)!.lastRenewalAt!);

    const killedAt = Date.now();
    await gateways.get(victim)!.signal('SIGKILL');
    // Within the missed-renewal window the dead gateway is still listed, but does not answer.
    const meanwhile = await connect(await signIn('wes'));
    expect(meanwhile.status, meanwhile.text).toBe(200);
    expect(meanwhile.body.gateway).toBe(survivor);

    await expect.poll(() => statusOf(victim), { timeout: 15_000, interval: 100 }).toBe('dropped');
    const droppedAfterKillMs = Date.now() - killedAt;
    const droppedAfterRenewalMs = Date.now() - lastRenewal;
    console.log(
      `killed gateway dropped ${droppedAfterKillMs} ms after SIGKILL, ${droppedAfterRenewalMs} ms after its last renewal (renewals every ${RENEW_SECONDS} s)`,
    );
    expect(droppedAfterRenewalMs).toBeGreaterThanOrEqual(3 * RENEW_SECONDS * 1000);
    expect(droppedAfterKillMs).toBeLessThan(3 * RENEW_SECONDS * 1000 + 2000);

    // una connects again: her forward on the dead gateway is replaced by one on the live one.
    const again = await connect(una);
    expect(again.status, again.text).toBe(200);
    expect(again.body.gateway).toBe(survivor);
    expect(await echoes(again.body.host, again.body.port, { from: '127.0.0.1' })).toBe(true);
    const rows = await broker.broker.site.db
      .selectFrom('gatewayForward')
      .select(['gatewayName', 'gatewayId', 'deletedAt'])
      .where('userName', '=', 'una')
      .where('gatewayName', '=', victim)
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.deletedAt !== null && r.gatewayId === null)).toBe(true);
    for (let i = 0; i < 3; i++) {
      const c = await connect(await signIn('xia'));
      expect(c.status, c.text).toBe(200);
      expect(c.body.gateway).toBe(survivor);
    }
  });

  it('deregisters a gateway stopped with SIGTERM at once', async () => {
    const survivor = [...gateways.values()].find(
      (g) => g.child.exitCode === null && !g.child.signalCode,
    )!;
    const stoppedAt = Date.now();
    const exit = await survivor.signal('SIGTERM');
    const absentAfterMs = Date.now() - stoppedAt;

    expect(exit.code).toBe(0);
    expect(survivor.logs.some((l) => l.message === 'gateway deregistered from the broker')).toBe(
      true,
    );
    expect(await statusOf(survivor.name)).toBe('absent');
    console.log(`SIGTERM'd gateway deregistered and exited within ${absentAfterMs} ms`);
    expect(absentAfterMs).toBeLessThan(RENEW_SECONDS * 3000);
    const refused = await connect(await signIn('vic'));
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('gateway_unavailable');
  });
});
