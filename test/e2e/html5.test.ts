/**
 * Desktops in the browser, end to end without a browser: a real desktop (Xvfb painted with a
 * known colour, x11vnc, an xterm), the local broker, gateways in their own processes, and an
 * RFB client speaking through the gateway's WebSocket bridge with the broker's ticket, as
 * noVNC does. The browser itself is test/browser/desktop.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sealTicket,
  type TicketClaims,
  ticketKey,
} from '../../functions/core/gateways/html5-ticket.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { TEST_GATEWAY_SECRET } from '../helpers/desktops.ts';
import { type LoopbackGateway, startLoopbackGateway } from '../helpers/gateway-process.ts';
import { request } from '../helpers/http.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../helpers/pg.ts';
import { type BridgeOutcome, openRfb, type RfbClient } from '../helpers/rfb-client.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { startVncDesktop, type VncDesktop } from '../helpers/vnc-desktop.ts';

const PASSWORD = 'html5-test-password';
const AGENT_KEY = 'html5-agent-key-0123456789';

describe('HTML5 display', () => {
  let database: TestDatabase;
  /** Between the broker and PostgreSQL, to cut the site database away (leased mode). */
  let proxy: TcpProxy;
  let broker: TestBroker;
  let desktop: VncDesktop;
  let gw1: LoopbackGateway;
  let gw2: LoopbackGateway;

  const login = async (username: string, from = '127.0.0.1') => {
    const res = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username, password: PASSWORD },
      from,
    });
    expect(res.status, res.text).toBe(200);
    return res.body as { token: string; offers: { desktopId: number; protocols: unknown[] }[] };
  };
  const connect = (token: string, desktopId: number, body: unknown, from = '127.0.0.1') =>
    request(`${broker.url}/api/v1/offers/${desktopId}/connect`, {
      method: 'POST',
      token,
      body,
      from,
    });
  /** Signs in, connects for the browser; the answer's webSocket. */
  const browserTicket = async (username: string) => {
    const session = await login(username);
    const res = await connect(session.token, session.offers[0]!.desktopId, {
      protocol: 'vnc',
      display: 'browser',
    });
    expect(res.status, res.text).toBe(200);
    return { ...session, desktopId: res.body.desktopId as number, ...res.body.webSocket } as {
      token: string;
      desktopId: number;
      url: string;
      ticket: string;
      expiresAt: number;
    };
  };
  const opened = (outcome: BridgeOutcome): RfbClient => {
    if (!outcome.opened) throw new Error(`refused: ${outcome.code} ${outcome.reason}`);
    return outcome.rfb;
  };
  const mint = (over: Partial<TicketClaims>) =>
    sealTicket(ticketKey(TEST_GATEWAY_SECRET), {
      id: 'feedfacefeedfacefeedfacefeedface',
      user: 'vera',
      desktopId: 1,
      host: '127.0.0.1',
      port: desktop.port,
      protocol: 'vnc',
      clientIp: '127.0.0.1',
      issuedAt: Date.now() - 10_000,
      expiresAt: Date.now() + 10_000,
      closeAt: Date.now() + 3_600_000,
      ...over,
    });

  beforeAll(async () => {
    desktop = await startVncDesktop({ colour: '#3366cc' });
    database = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const viaProxy = new URL(databaseUrl(database.name));
    viaProxy.port = String(proxy.port);
    broker = await startTestBroker({
      dbUrl: viaProxy.toString(),
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET },
      local: { demo: false },
    });
    gw1 = await startLoopbackGateway('gw1', { BROKER_URL: broker.url });
    gw2 = await startLoopbackGateway('gw2', { BROKER_URL: broker.url });
    const users = ['vera', 'vince', 'vito', 'vlad'].map((name) => ({
      name,
      password: PASSWORD,
      groups: ['Web'],
    }));
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token: await broker.adminToken(),
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: [
          ...users,
          { name: 'walt', password: PASSWORD, groups: ['Doomed'] },
          { name: 'ada', password: PASSWORD, groups: ['Agented'] },
          { name: 'lena', password: PASSWORD, groups: ['Web'] },
        ],
        roles: [{ name: 'User' }],
        gateways: [gw1.entry, gw2.entry],
        protocolPlans: [
          {
            name: 'vnc-web',
            protocols: [
              { protocol: 'vnc', port: desktop.port, gateway: 'gw1' },
              { protocol: 'rdp', port: 3389 },
            ],
          },
          { name: 'vnc-gw2', protocols: [{ protocol: 'vnc', port: desktop.port, gateway: 'gw2' }] },
        ],
        pools: [
          {
            name: 'web',
            desktops: [1, 2, 3, 4, 5].map((i) => ({ name: `web-${i}`, address: '127.0.0.1' })),
          },
          {
            name: 'agented',
            desktops: [{ name: 'agented-1', address: '127.0.0.1', agentKey: AGENT_KEY }],
          },
          {
            name: 'own',
            desktops: [{ name: 'lena-ws', address: '127.0.0.1', assignedTo: 'lena' }],
          },
          { name: 'doomed', desktops: [{ name: 'doomed-1', address: '127.0.0.1' }] },
        ],
        policies: [
          {
            name: 'web',
            entries: [
              { pool: 'own', offer: 1, protocolPlan: 'vnc-web' },
              { pool: 'web', offer: 1, protocolPlan: 'vnc-web' },
            ],
          },
          { name: 'doomed', entries: [{ pool: 'doomed', offer: 1, protocolPlan: 'vnc-gw2' }] },
          {
            name: 'agented',
            entries: [{ pool: 'agented', offer: 1, protocolPlan: 'vnc-web', release: 'on_logout' }],
          },
        ],
        assignments: [
          { group: 'Doomed', role: 'User', policy: 'doomed' },
          { group: 'Agented', role: 'User', policy: 'agented' },
          { group: 'Web', role: 'User', policy: 'web' },
        ],
      },
    });
    expect(res.status, res.text).toBe(200);
  }, 90_000);

  afterAll(async () => {
    await gw1?.stop();
    await gw2?.stop();
    await broker?.stop();
    await proxy?.close();
    await database?.drop();
    await desktop?.close();
  });

  it('offers say which protocols open in the browser', async () => {
    const session = await login('vera');

    expect(session.offers[0]!.protocols).toEqual([
      { protocol: 'vnc', port: desktop.port, via: 'gateway', browser: true },
      { protocol: 'rdp', port: 3389, via: 'direct' },
    ]);
  });

  it('connect for the browser answers the gateway WebSocket and a one-time ticket', async () => {
    const session = await login('vera');
    const before = Date.now();

    const res = await connect(session.token, session.offers[0]!.desktopId, {
      display: 'browser',
    });
    const rdp = await connect(session.token, session.offers[0]!.desktopId, {
      protocol: 'rdp',
      display: 'browser',
    });

    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      protocol: 'vnc',
      display: 'browser',
      via: 'gateway',
      gateway: 'gw1',
      webSocket: { url: `ws://127.0.0.1:${gw1.httpPort}/app/html5/websocket` },
    });
    expect(res.body.host).toBeUndefined();
    expect(res.body.webSocket.ticket).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(res.body.webSocket.expiresAt - before).toBeLessThanOrEqual(60_000);
    // The claim with its log row: no forward to record.
    expect(Number(res.headers['x-deskbroker-db-round-trips'])).toBeLessThanOrEqual(2);
    expect(rdp.status).toBe(400);
    expect(rdp.body.error).toBe('browser_display_unavailable');
  });

  it('shows the desktop through the bridge: its colour, keys typed, the clipboard both ways, counted by --info', async () => {
    const { url, ticket } = await browserTicket('vera');
    const rfb = opened(await openRfb(url, ticket));
    try {
      expect([rfb.width, rfb.height]).toEqual([desktop.width, desktop.height]);
      expect(await rfb.pixel(700, 500)).toBe('#3366cc');
      expect(await gw1.info()).toMatch(/HTML5 display is ENABLED with 1 connection\(s\)/);

      const xterm = await desktop.lineReader('html5-keys');
      rfb.pointer(40, 40);
      rfb.type('hello gateway');
      await expect
        .poll(() => desktop.x('xdotool', ['getwindowname', xterm]), { timeout: 10_000 })
        .toBe('typed:hello gateway\n');

      rfb.sendClipboard('pasted from the browser');
      await expect
        .poll(() => desktop.clipboard(), { timeout: 10_000 })
        .toBe('pasted from the browser');
      // x11vnc sends the desktop's selection only from 15 s after a client connected
      // (sel_waittime in its src/selection.c, not configurable).
      await desktop.setClipboard('copied on the desktop');
      await expect
        .poll(() => rfb.cutTexts.includes('copied on the desktop'), { timeout: 25_000 })
        .toBe(true);
    } finally {
      await rfb.close();
    }
    await expect
      .poll(() => gw1.info(), { timeout: 5_000 })
      .toMatch(/HTML5 display is ENABLED with 0 connection\(s\)/);
  }, 60_000);

  it('refuses forged, expired, replayed and foreign-address tickets before the desktop sees a byte', async () => {
    const { url, ticket } = await browserTicket('vince');
    const seen = desktop.connections();
    const refusal = async (t: string | undefined, from?: string) => {
      const outcome = await openRfb(url, t, { from });
      if (outcome.opened) {
        await outcome.rfb.close();
        return 'opened';
      }
      return outcome.code;
    };

    const codes = {
      none: await refusal(undefined),
      garbage: await refusal('v1.bm90LWEtdGlja2V0'),
      forged: await refusal(
        sealTicket(ticketKey('some-other-secret-0123456789'), {
          id: 'feedfacefeedfacefeedfacefeedface',
          user: 'vince',
          desktopId: 1,
          host: '127.0.0.1',
          port: desktop.port,
          protocol: 'vnc',
          clientIp: '127.0.0.1',
          issuedAt: Date.now(),
          expiresAt: Date.now() + 30_000,
          closeAt: Date.now() + 60_000,
        }),
      ),
      // Long expired: the gateway refuses it itself; just expired (within the gateway's
      // tolerance for clock skew): the broker does.
      expired: await refusal(
        mint({ expiresAt: Date.now() - 30_000, issuedAt: Date.now() - 60_000 }),
      ),
      justExpired: await refusal(mint({ expiresAt: Date.now() - 1_000 })),
      foreignAddress: await refusal(ticket, '127.0.0.2'),
    };
    expect(desktop.connections()).toBe(seen);

    const first = await refusal(ticket);
    const afterFirst = desktop.connections();
    const replayed = await refusal(ticket);

    expect(codes).toEqual({
      none: 4401,
      garbage: 4401,
      forged: 4401,
      expired: 4408,
      justExpired: 4408,
      foreignAddress: 4403,
    });
    expect(first).toBe('opened');
    expect(afterFirst).toBe(seen + 1);
    expect(replayed).toBe(4409);
    expect(desktop.connections()).toBe(afterFirst);
    expect(await gw1.info()).toMatch(/7 ticket\(s\) refused/);
  });

  it('release, sign-out and the agent end the browser session; a ticket from before a release opens nothing', async () => {
    const closes = async (
      username: string,
      end: (s: { token: string; desktopId: number }) => Promise<unknown>,
    ) => {
      const t = await browserTicket(username);
      const rfb = opened(await openRfb(t.url, t.ticket));
      await end(t);
      await expect.poll(() => rfb.closed?.code, { timeout: 5_000 }).toBe(4001);
    };
    await closes('vito', (s) =>
      request(`${broker.url}/api/v1/offers/${s.desktopId}/release`, {
        method: 'POST',
        token: s.token,
      }),
    );
    await closes('vito', (s) =>
      request(`${broker.url}/api/v1/logout`, { method: 'POST', token: s.token }),
    );

    const stale = await browserTicket('vlad');
    await request(`${broker.url}/api/v1/offers/${stale.desktopId}/release`, {
      method: 'POST',
      token: stale.token,
    });
    const seen = desktop.connections();
    const outcome = await openRfb(stale.url, stale.ticket);
    expect(outcome).toMatchObject({ opened: false, code: 4409 });
    expect(desktop.connections()).toBe(seen);
  });

  it('an agent logout on the desktop closes its browser session', async () => {
    const agent = (event: string) =>
      request(`${broker.url}/api/v1/agent/events`, {
        method: 'POST',
        headers: { authorization: `Agent ${AGENT_KEY}` },
        body: { event, user: 'ada' },
      });
    // The agent reports first: refresh_pool (each minute) marks a desktop whose agent never
    // reported unavailable, and one run in three would cross a minute before ada's login.
    expect((await agent('heartbeat')).status).toBe(200);
    const t = await browserTicket('ada');
    const rfb = opened(await openRfb(t.url, t.ticket));

    expect((await agent('login')).status).toBe(200);
    expect(rfb.closed).toBeUndefined();
    expect((await agent('logout')).status).toBe(200);

    await expect.poll(() => rfb.closed?.code, { timeout: 5_000 }).toBe(4001);
  });

  it('leased mode gives a leased user the desktop in the browser too', async () => {
    // The first launch writes the lease.
    const first = await browserTicket('lena');
    expect(first.desktopId).toBe(
      (
        await broker.broker.site.db
          .selectFrom('desktop')
          .select('id')
          .where('name', '=', 'lena-ws')
          .executeTakeFirstOrThrow()
      ).id,
    );

    await proxy.cut('refuse');
    try {
      const session = await login('lena');
      const res = await connect(session.token, first.desktopId, { display: 'browser' });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ mode: 'leased', display: 'browser', gateway: 'gw1' });
      expect(session.offers[0]!.protocols[0]).toMatchObject({ protocol: 'vnc', browser: true });
      const rfb = opened(await openRfb(res.body.webSocket.url, res.body.webSocket.ticket));
      expect(await rfb.pixel(790, 10)).toBe('#3366cc');
      await rfb.close();
      const replay = await openRfb(res.body.webSocket.url, res.body.webSocket.ticket);
      expect(replay).toMatchObject({ opened: false, code: 4409 });
    } finally {
      await proxy.restore();
    }
    // Back to normal within the breaker's next probe.
    await expect
      .poll(
        async () =>
          (
            await request(`${broker.url}/api/v1/login`, {
              method: 'POST',
              body: { username: 'lena', password: PASSWORD },
            })
          ).body?.mode,
        { timeout: 10_000, interval: 200 },
      )
      .toBe('normal');
  });

  it('killing the gateway mid-session closes the connection at once, it does not hang', async () => {
    const { url, ticket } = await browserTicket('walt');
    expect(url).toBe(`ws://127.0.0.1:${gw2.httpPort}/app/html5/websocket`);
    const rfb = opened(await openRfb(url, ticket));
    expect(await rfb.pixel(10, 590)).toBe('#3366cc');
    const killedAt = Date.now();

    await gw2.stop('SIGKILL');

    await expect.poll(() => rfb.closed, { timeout: 5_000, interval: 20 }).toBeDefined();
    expect(rfb.closed!.code).toBe(1006);
    expect(Date.now() - killedAt).toBeLessThan(2_000);
  });
});
