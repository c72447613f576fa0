/**
 * Gateways end to end on the local runtime: a user signs in through a gateway's login
 * forwarding (the broker trusts the gateway's signed tag as the login gateway), connects to
 * a desktop (a TCP echo server) through a `fewest` cluster of two gateways, bytes flow both
 * ways, another source address is refused, logout closes the forward, and a restarted gateway
 * re-opens its live forwards from the broker.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import {
  type EchoServer,
  echoes,
  startEchoServer,
  startTestGateway,
  TEST_GATEWAY_SECRET,
} from '../helpers/desktops.ts';
import { request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const PASSWORD = 'gateway-test-password';

/** Resolves true when a connection from `from` is accepted and then closed or reset unread. */
function refused(host: string, port: number, from: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress: from });
    let got = false;
    socket.on('data', () => {
      got = true;
    });
    socket.on('connect', () => socket.write('hello?'));
    socket.on('error', () => resolve(true));
    socket.on('close', () => resolve(!got));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(!got);
    });
  });
}

describe('gateways', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let echo: EchoServer;
  const gateways: Awaited<ReturnType<typeof startTestGateway>>[] = [];

  const loginVia = (
    gatewayIndex: number | undefined,
    username: string,
    headers: Record<string, string> = {},
  ) => {
    const base =
      gatewayIndex === undefined
        ? broker.url
        : `http://127.0.0.1:${gateways[gatewayIndex]!.gateway.httpPort}`;
    return request(`${base}/api/v1/login`, {
      method: 'POST',
      body: { username, password: PASSWORD },
      headers,
    });
  };

  beforeAll(async () => {
    echo = await startEchoServer();
    database = await createTestDatabase();
    broker = await startTestBroker({
      dbUrl: database.url,
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET },
      local: { demo: false },
    });
    // On two loopback addresses, so both can listen on the same port (mode "all").
    gateways.push(await startTestGateway('gw1', { brokerUrl: broker.url, bind: '127.0.0.1' }));
    gateways.push(await startTestGateway('gw2', { brokerUrl: broker.url, bind: '127.0.0.3' }));
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token: await broker.adminToken(),
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: [
          ...['una', 'vic', 'wes'].map((name) => ({
            name,
            password: PASSWORD,
            groups: ['Remote'],
          })),
          { name: 'xia', password: PASSWORD, groups: ['Everywhere'] },
          { name: 'yul', password: PASSWORD, groups: ['Sticky'] },
          { name: 'zed', password: PASSWORD, groups: ['Nat'] },
        ],
        roles: [{ name: 'User' }, { name: 'Remote' }],
        gateways: gateways.map((g) => g.entry),
        gatewayClusters: [
          { name: 'pair', mode: 'fewest', members: ['gw1', 'gw2'] },
          {
            name: 'both',
            mode: 'all',
            members: ['gw1', 'gw2'],
            loadBalancerAddress: 'lb.example.test',
          },
          { name: 'sticky', mode: 'login', members: ['gw1', 'gw2'] },
        ],
        protocolPlans: [
          { name: 'via-pair', protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'pair' }] },
          { name: 'via-both', protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'both' }] },
          {
            name: 'via-sticky',
            protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'sticky' }],
          },
          // Port 9 answers nothing here: desktops of this plan are reached on their own port.
          { name: 'via-pair-9', protocols: [{ protocol: 'rdp', port: 9, gateway: 'pair' }] },
        ],
        pools: [
          {
            name: 'desks',
            desktops: [1, 2, 3, 4, 5].map((i) => ({ name: `desk-${i}`, address: '127.0.0.1' })),
          },
          {
            name: 'behind-nat',
            desktops: [{ name: 'nat-1', address: '127.0.0.1', ports: { rdp: echo.port } }],
          },
        ],
        locations: [
          {
            name: 'through-gw1',
            rules: [{ attribute: 'login_gateway', op: 'is_equal_to', value: 'gw1' }],
          },
        ],
        policies: [
          { name: 'remote', entries: [{ pool: 'desks', offer: 1, protocolPlan: 'via-pair' }] },
          { name: 'everywhere', entries: [{ pool: 'desks', offer: 1, protocolPlan: 'via-both' }] },
          { name: 'sticky', entries: [{ pool: 'desks', offer: 1, protocolPlan: 'via-sticky' }] },
          { name: 'nat', entries: [{ pool: 'behind-nat', offer: 1, protocolPlan: 'via-pair-9' }] },
        ],
        assignments: [
          { group: 'Everywhere', role: 'User', policy: 'everywhere' },
          { group: 'Sticky', role: 'User', policy: 'sticky' },
          { group: 'Nat', role: 'User', policy: 'nat' },
          { group: 'Remote', location: 'through-gw1', role: 'Remote', policy: 'remote' },
          { group: 'Remote', role: 'User', policy: 'remote' },
        ],
      },
    });
    expect(res.status, res.text).toBe(200);
  }, 60_000);

  afterAll(async () => {
    for (const g of gateways) await g.stop();
    await broker?.stop();
    await database?.drop();
    await echo?.close();
  });

  it('answers the gateway ping', async () => {
    const ping = await request(`http://127.0.0.1:${gateways[0]!.gateway.httpPort}/app/system/ping`);
    expect(ping).toMatchObject({ status: 200, text: 'OK' });
  });

  it('forwards to a desktop’s own port, not its plan’s', async () => {
    const login = await loginVia(undefined, 'zed');
    const offer = login.body.offers[0];
    const connect = await request(`${broker.url}/api/v1/offers/${offer.desktopId}/connect`, {
      method: 'POST',
      token: login.body.token,
    });

    expect(offer.protocols).toEqual([{ protocol: 'rdp', port: echo.port, via: 'gateway' }]);
    expect(connect.status, connect.text).toBe(200);
    expect(await echoes(connect.body.host, connect.body.port)).toBe(true);
    const forward = await broker.broker.site.db
      .selectFrom('gatewayForward')
      .select(['desktopPort'])
      .where('userName', '=', 'zed')
      .executeTakeFirstOrThrow();
    expect(forward.desktopPort).toBe(echo.port);
    await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: login.body.token });
  });

  it('trusts the login gateway only from a signed tag', async () => {
    const through = await loginVia(0, 'una');
    const client = await broker.broker.site.db
      .selectFrom('client')
      .select(['loginGateway', 'ip'])
      .where('lastUser', '=', 'una')
      .executeTakeFirst();
    const forged = await loginVia(undefined, 'una', {
      'x-deskbroker-gateway': 'v1;gw=gw1;ip=127.0.0.1;ts=1;sig=00',
    });
    const direct = await loginVia(undefined, 'una');

    expect(through.status, through.text).toBe(200);
    expect(through.body.role).toBe('Remote');
    expect(forged.body.role).toBe('User');
    expect(direct.body.role).toBe('User');
    expect(client).toEqual({ loginGateway: 'gw1', ip: '127.0.0.1' });
  });

  it('connects through the fewest-loaded gateway; bytes flow; other addresses are refused; logout closes it', async () => {
    const sessions = [];
    for (const name of ['una', 'vic']) {
      const login = await loginVia(0, name);
      const connect = await request(
        `${broker.url}/api/v1/offers/${login.body.offers[0].desktopId}/connect`,
        {
          method: 'POST',
          token: login.body.token,
        },
      );
      expect(connect.status, connect.text).toBe(200);
      // The claim with its log row, then the forward's record: within the budget of 2.
      expect(Number(connect.headers['x-deskbroker-db-round-trips'])).toBeLessThanOrEqual(2);
      sessions.push({ token: login.body.token as string, connection: connect.body });
    }
    const [una, vic] = sessions;

    expect(una!.connection).toMatchObject({ via: 'gateway', host: '127.0.0.1' });
    expect(new Set([una!.connection.gateway, vic!.connection.gateway])).toEqual(
      new Set(['gw1', 'gw2']),
    );
    expect(
      await echoes(una!.connection.host, una!.connection.port, { size: 4 * 1024 * 1024 }),
    ).toBe(true);
    expect(await refused(una!.connection.host, una!.connection.port, '127.0.0.2')).toBe(true);
    expect(una!.connection.launchFile.content).toContain(
      `full address:s:127.0.0.1:${una!.connection.port}`,
    );

    const rows = await broker.broker.site.db
      .selectFrom('gatewayForward')
      .select(['userName', 'listenPort', 'deletedAt'])
      .where('userName', '=', 'una')
      .execute();
    expect(rows).toEqual([{ userName: 'una', listenPort: una!.connection.port, deletedAt: null }]);

    await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: una!.token });
    expect(await echoes(una!.connection.host, una!.connection.port, { from: '127.0.0.1' })).toBe(
      false,
    );
    expect(await echoes(vic!.connection.host, vic!.connection.port, { from: '127.0.0.1' })).toBe(
      true,
    );
    await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: vic!.token });
  });

  it('mode "all" opens the forward on every member on the same port and answers with the load balancer', async () => {
    const login = await loginVia(undefined, 'xia');
    const connect = await request(
      `${broker.url}/api/v1/offers/${login.body.offers[0].desktopId}/connect`,
      {
        method: 'POST',
        token: login.body.token,
      },
    );

    expect(connect.body).toMatchObject({
      via: 'gateway',
      gateway: 'both',
      host: 'lb.example.test',
    });
    expect(await echoes('127.0.0.1', connect.body.port, { from: '127.0.0.1' })).toBe(true);
    expect(await echoes('127.0.0.3', connect.body.port, { from: '127.0.0.1' })).toBe(true);
    await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: login.body.token });
    expect(await echoes('127.0.0.1', connect.body.port, { from: '127.0.0.1' })).toBe(false);
    expect(await echoes('127.0.0.3', connect.body.port, { from: '127.0.0.1' })).toBe(false);
  });

  it('mode "login" uses the gateway that forwarded the login, and says so when there was none', async () => {
    const through = await loginVia(1, 'yul');
    const viaGw2 = await request(
      `${broker.url}/api/v1/offers/${through.body.offers[0].desktopId}/connect`,
      {
        method: 'POST',
        token: through.body.token,
      },
    );
    const direct = await loginVia(undefined, 'yul');
    const noGateway = await request(
      `${broker.url}/api/v1/offers/${direct.body.offers[0].desktopId}/connect`,
      {
        method: 'POST',
        token: direct.body.token,
      },
    );

    expect(viaGw2.body).toMatchObject({ gateway: 'gw2', host: '127.0.0.3' });
    expect(noGateway.status).toBe(503);
    expect(noGateway.body.error).toBe('login_gateway_unknown');
    await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: through.body.token });
  });

  it('mode "fewest" skips a gateway that does not answer', async () => {
    const gw1 = gateways[0]!;
    await gw1.stop();
    try {
      const login = await loginVia(undefined, 'vic');
      const connect = await request(
        `${broker.url}/api/v1/offers/${login.body.offers[0].desktopId}/connect`,
        {
          method: 'POST',
          token: login.body.token,
        },
      );
      expect(connect.status, connect.text).toBe(200);
      expect(connect.body.gateway).toBe('gw2');
      expect(await echoes(connect.body.host, connect.body.port, { from: '127.0.0.1' })).toBe(true);
      await request(`${broker.url}/api/v1/logout`, { method: 'POST', token: login.body.token });
    } finally {
      gateways[0] = await startTestGateway('gw1', {
        brokerUrl: broker.url,
        bind: '127.0.0.1',
        controlPort: gw1.gateway.controlPort,
      });
    }
  });

  it('a restarted gateway re-opens its live forwards from the broker', async () => {
    const login = await loginVia(undefined, 'wes');
    const connect = await request(
      `${broker.url}/api/v1/offers/${login.body.offers[0].desktopId}/connect`,
      {
        method: 'POST',
        token: login.body.token,
      },
    );
    const { gateway: name, host, port } = connect.body;
    const index = gateways.findIndex((g) => g.entry.name === name);
    const old = gateways[index]!;
    expect(await echoes(host, port, { from: '127.0.0.1' })).toBe(true);

    await old.stop();
    expect(await echoes(host, port, { from: '127.0.0.1' })).toBe(false);
    gateways[index] = await startTestGateway(name, {
      brokerUrl: broker.url,
      bind: host,
      controlPort: old.gateway.controlPort,
    });

    await expect
      .poll(() => echoes(host, port, { from: '127.0.0.1' }), { timeout: 10_000, interval: 200 })
      .toBe(true);
  });
});
