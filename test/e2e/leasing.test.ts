/**
 * Connection leasing on the local runtime with PostgreSQL: the site database is cut away
 * mid-run (through a TCP proxy) while logins and connects go on; leased users keep working
 * through a real gateway forward, others get a clear 503, and when the database is back the
 * log holds every event of the outage exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { testClock } from '../helpers/clock.ts';
import {
  type EchoServer,
  echoes,
  startEchoServer,
  startTestGateway,
  TEST_GATEWAY_SECRET,
} from '../helpers/desktops.ts';
import { clientOf, request } from '../helpers/http.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../helpers/pg.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const PASSWORD = 'leasing-test-password';
const LEASED = ['lea', 'leo', 'lia'];

describe('connection leasing', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let broker: TestBroker;
  let echo: EchoServer;
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  let token: string;
  const clock = testClock();
  const site = (settings: Record<string, unknown> = {}) => ({
    authServers: [{ name: 'local', type: 'local' }],
    users: [...LEASED, 'pat', 'rev', 'exp'].map((name) => ({
      name,
      password: PASSWORD,
      groups: ['Staff'],
    })),
    roles: [{ name: 'User' }],
    gateways: [gateway.entry],
    protocolPlans: [
      { name: 'via-gw', protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'gw1' }] },
    ],
    pools: [
      {
        name: 'assigned',
        desktops: [...LEASED, 'rev', 'exp'].map((user, i) => ({
          name: `${user}-ws`,
          address: '127.0.0.1',
          assignedTo: user,
          agentKey: `agent-key-for-${user}-desktop-0${i}`,
        })),
      },
      { name: 'shared', desktops: [{ name: 'shared-1', address: '127.0.0.1' }] },
    ],
    policies: [
      {
        name: 'staff',
        entries: [
          { pool: 'assigned', offer: 1, protocolPlan: 'via-gw' },
          { pool: 'shared', offer: 1, protocolPlan: 'via-gw' },
        ],
      },
    ],
    assignments: [{ group: 'Staff', role: 'User', policy: 'staff' }],
    settings,
  });
  const apply = async (document: unknown) => {
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      body: document,
      token,
    });
    expect(res.status, res.text).toBe(200);
    // The desktops' agents report once: refresh_pool (each wall-clock minute) marks a desktop
    // whose agent never reported unavailable, which would hide it from a run crossing a minute.
    const pools = (document as { pools: { desktops: { agentKey?: string }[] }[] }).pools;
    for (const key of pools.flatMap((p) => p.desktops.map((d) => d.agentKey))) {
      if (!key) continue;
      const beat = await request(`${broker.url}/api/v1/agent/events`, {
        method: 'POST',
        headers: { authorization: `Agent ${key}` },
        body: { event: 'heartbeat' },
      });
      expect(beat.status, beat.text).toBe(200);
    }
  };
  const user = (name: string) => {
    const c = clientOf(broker.url);
    return { ...c, signIn: () => c.login({ username: name, password: PASSWORD }) };
  };
  const logRows = (where: { event: string; detailLike: string }) =>
    broker.broker.site.db
      .selectFrom('log')
      .select(['userName', 'event', 'detail', 'desktopId'])
      .where('event', '=', where.event)
      .where('detail', 'like', where.detailLike)
      .execute();
  const outage = async <T>(fn: () => Promise<T>): Promise<T> => {
    await proxy.cut('refuse');
    try {
      return await fn();
    } finally {
      await proxy.restore();
    }
  };
  /**
   * Back to normal: logins go on until one is served from the database (the breaker probes
   * every second). Returns how long that took and how many logins were still leased meanwhile.
   */
  const waitForNormal = async () => {
    const started = Date.now();
    let leasedProbes = 0;
    for (;;) {
      const login = await user('lea').signIn();
      if (login.body?.mode === 'normal') break;
      if (login.body?.mode === 'leased') leasedProbes++;
      if (Date.now() - started > 20_000) throw new Error('not back to normal within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = Date.now() - started;
    await expect
      .poll(async () => (await broker.broker.leasing.outbox.pending(1)).length, { timeout: 10_000 })
      .toBe(0);
    return { ms, leasedProbes };
  };

  beforeAll(async () => {
    echo = await startEchoServer();
    gateway = await startTestGateway('gw1');
    database = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const viaProxy = new URL(databaseUrl(database.name));
    viaProxy.port = String(proxy.port);
    broker = await startTestBroker({
      dbUrl: viaProxy.toString(),
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET, LOGIN_FAILURE_FLOOR_MS: '0' },
      local: { demo: false, clock },
    });
    token = await broker.adminToken();
    await apply(site());
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await gateway?.stop();
    await proxy?.close();
    await database?.drop();
    await echo?.close();
  });

  it('writes a lease when a hard-assigned desktop is launched, never for a pooled one', async () => {
    for (const name of [...LEASED, 'rev', 'exp']) {
      const u = user(name);
      const login = await u.signIn();
      const mine = login.body.offers.find((o: { status: string }) => o.status === 'assigned');
      const connect = await u.call(`/api/v1/offers/${mine.desktopId}/connect`, { method: 'POST' });
      expect(connect.status, connect.text).toBe(200);
      expect(await echoes(connect.body.host, connect.body.port)).toBe(true);
    }
    const pat = user('pat');
    const offers = (await pat.signIn()).body.offers;
    expect(offers.map((o: { name: string }) => o.name)).toEqual(['shared-1']);
    expect(
      (await pat.call(`/api/v1/offers/${offers[0].desktopId}/connect`, { method: 'POST' })).status,
    ).toBe(200);

    const listed = await request(`${broker.url}/api/v1/admin/leases`, { token });
    // In the state table's order: sorted here.
    listed.body.leases.sort((a: { user: string }, b: { user: string }) =>
      a.user.localeCompare(b.user),
    );
    expect(listed.body.leases.map((l: { user: string }) => l.user)).toEqual([
      'exp',
      'lea',
      'leo',
      'lia',
      'rev',
    ]);
    expect(listed.body.leases[0]).toMatchObject({
      desktopName: 'exp-ws',
      address: '127.0.0.1',
      pool: 'assigned',
      launch: {
        protocol: 'rdp',
        protocols: [{ protocol: 'rdp', port: echo.port, gateway: 'gw1' }],
      },
    });
    const days = (Date.parse(listed.body.leases[0].expiresAt) - clock.now()) / 86_400_000;
    expect(days).toBeCloseTo(14, 1);
  });

  it('keeps leased users working through an outage with no refusals, and loses no event', async () => {
    const before = await broker.broker.site.db
      .selectFrom('log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const refusals: string[] = [];
    let logins = 0;
    let connects = 0;
    let bytesOk = 0;
    let unleasedRefused = 0;
    const agentEvents: string[] = [];

    await outage(async () => {
      for (let round = 0; round < 4; round++) {
        await Promise.all(
          LEASED.map(async (name) => {
            const u = user(name);
            const login = await u.signIn();
            if (login.status !== 200)
              return refusals.push(`${name} login ${login.status} ${login.text}`);
            logins++;
            expect(login.body.mode).toBe('leased');
            expect(login.body.offers.map((o: { name: string }) => o.name)).toEqual([`${name}-ws`]);
            const connect = await u.call(
              `/api/v1/offers/${login.body.offers[0].desktopId}/connect`,
              { method: 'POST' },
            );
            if (connect.status !== 200)
              return refusals.push(`${name} connect ${connect.status} ${connect.text}`);
            connects++;
            expect(connect.body).toMatchObject({ via: 'gateway', gateway: 'gw1', mode: 'leased' });
            if (await echoes(connect.body.host, connect.body.port)) bytesOk++;
            const event = round % 2 === 0 ? 'disconnect' : 'reconnect';
            const agent = await request(`${broker.url}/api/v1/agent/events`, {
              method: 'POST',
              body: { event },
              headers: {
                authorization: `Agent agent-key-for-${name}-desktop-0${LEASED.indexOf(name)}`,
              },
            });
            if (agent.status !== 200)
              return refusals.push(`${name} agent ${agent.status} ${agent.text}`);
            agentEvents.push(`${name}:${event}`);
          }),
        );
        const pat = await user('pat').signIn();
        expect(pat.status).toBe(503);
        expect(pat.body).toEqual({
          error: 'site_database_unavailable',
          message:
            'the site database is not reachable and you have no leased desktops; try again later',
        });
        expect(pat.headers['retry-after']).toBeDefined();
        unleasedRefused++;
      }
      const status = await request(`${broker.url}/index.pl?action=cb_status`);
      expect(status.status).toBe(200);
      expect(status.text).toMatch(
        /^ERROR_MESSAGE: site database is not reachable.*\nmode: leased/s,
      );
      expect((await request(`${broker.url}/index.pl?action=is_alive`)).status).toBe(503);
      const admin = await request(`${broker.url}/api/v1/admin/config`, { token });
      expect(admin.status).toBe(503);
      expect(admin.body.error).toBe('site_database_unavailable');
    });

    expect(refusals).toEqual([]);
    expect({ logins, connects, bytesOk, unleasedRefused }).toEqual({
      logins: 12,
      connects: 12,
      bytesOk: 12,
      unleasedRefused: 4,
    });

    const back = await waitForNormal();
    expect(back.ms).toBeLessThan(5000);

    const leasedLogins = await logRows({ event: 'login', detailLike: '%(leased)' });
    const leasedConnects = await logRows({ event: 'connect', detailLike: '%(leased)' });
    expect(leasedLogins).toHaveLength(12 + back.leasedProbes);
    expect(leasedConnects).toHaveLength(12);
    expect(leasedConnects.every((r) => r.detail === 'rdp via gw1 (leased)')).toBe(true);
    const agentRows = await broker.broker.site.db
      .selectFrom('log')
      .select(['userName', 'event'])
      .where('event', 'in', ['agent_disconnect', 'agent_reconnect'])
      .execute();
    expect(agentRows).toHaveLength(agentEvents.length);
    const forwards = await broker.broker.site.db
      .selectFrom('gatewayForward')
      .select('id')
      .execute();
    expect(forwards.length).toBeGreaterThanOrEqual(12 + 6);
    const after = await broker.broker.site.db
      .selectFrom('log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBeGreaterThan(Number(before.n) + 24);

    // Replaying again writes nothing twice (the markers).
    const { replayer } = await broker.broker.leasing.upkeep();
    const again = await replayer.apply('already-applied-id', {
      kind: 'log',
      at: clock.now(),
      entry: { event: 'test', user: null },
    });
    expect(again).toBe('applied');
    expect(
      await replayer.apply('already-applied-id', {
        kind: 'log',
        at: clock.now(),
        entry: { event: 'test', user: null },
      }),
    ).toBe('duplicate');
  });

  it('notices a database that hangs (instead of refusing) within about a second on the login path', async () => {
    await proxy.cut('blackhole');
    try {
      const started = Date.now();
      const login = await user('lia').signIn();
      const ms = Date.now() - started;

      expect(login.status, login.text).toBe(200);
      expect(login.body.mode).toBe('leased');
      // The 1 s statement deadline plus a leased login; generous for a loaded test machine.
      expect(ms).toBeLessThan(3500);
    } finally {
      await proxy.restore();
    }
    await waitForNormal();
  });

  it('keeps leased logins fast on a hanging database when the configuration cache expires meanwhile', async () => {
    await proxy.cut('blackhole');
    try {
      // Open the breaker: the next requests go straight to leased mode.
      for (let i = 0; i < 2; i++) expect((await user('lia').signIn()).body.mode).toBe('leased');
      // The cached configuration expires while the database still hangs (CONFIG_CACHE_SECONDS 5).
      clock.advance(6_000);
      const timed = await Promise.all(
        LEASED.map(async (name) => {
          const started = Date.now();
          const login = await user(name).signIn();
          return { mode: login.body?.mode, ms: Date.now() - started };
        }),
      );
      expect(timed.map((t) => t.mode)).toEqual(['leased', 'leased', 'leased']);
      // The breaker lets one of them probe the database (it pays the 1 s request deadline);
      // the others do not wait for the probe, and none waits for a configuration reload or
      // for the database's 5 s statement timeout.
      const ms = timed.map((t) => t.ms).sort((a, b) => a - b);
      expect(ms[2]).toBeLessThan(2000);
      expect(ms[1]).toBeLessThan(800);
    } finally {
      await proxy.restore();
    }
    await waitForNormal();
  });

  it('keeps a revoked user out in leased mode', async () => {
    const revoke = await request(`${broker.url}/api/v1/admin/leases/revoke`, {
      method: 'POST',
      body: { user: 'rev' },
      token,
    });
    expect(revoke.body).toEqual({ user: 'rev', removed: 1, revoked: true });

    const answer = await outage(() => user('rev').signIn());

    expect(answer.status).toBe(503);
    expect(answer.body.message).toMatch(/your connection leases were revoked/);
    await waitForNormal();
  });

  it('extends a lease only while its session runs, and an expired lease is no lease', async () => {
    const agent = (body: Record<string, unknown>) =>
      request(`${broker.url}/api/v1/agent/events`, {
        method: 'POST',
        body,
        headers: { authorization: 'Agent agent-key-for-exp-desktop-04' },
      });
    const lease = async () =>
      (await broker.broker.leasing.leases.forUser('exp', clock.now())).leases[0];
    const before = (await lease())!;
    clock.advance(2 * 86_400_000);
    const idle = await agent({ event: 'heartbeat' }); // the desktop is on, nobody is on it
    const afterIdle = (await lease())!;
    await agent({ event: 'login', user: 'exp' });
    const extended = (await lease())!;

    expect(idle.status).toBe(200);
    expect(afterIdle.expiresAt).toBe(before.expiresAt);
    expect(extended.expiresAt - before.expiresAt).toBeGreaterThanOrEqual(2 * 86_400_000 - 1000);

    clock.advance(15 * 86_400_000);
    // The session still runs, but the lease has expired: nothing revives it.
    expect((await agent({ event: 'heartbeat' })).status).toBe(200);
    expect(await lease()).toBeUndefined();
    const answer = await outage(() => user('exp').signIn());

    expect(answer.status).toBe(503);
    expect(answer.body.message).toMatch(/you have no leased desktops/);
    await waitForNormal();
  });

  it('refuses everyone clearly when leasing is turned off for the site', async () => {
    token = await broker.adminToken(); // the clock moved past the last token's lifetime
    await apply(site({ leasing: { enabled: false } }));
    await broker.broker.snapshot.get();

    const answer = await outage(async () => {
      await new Promise((r) => setTimeout(r, 100));
      return user('lea').signIn();
    });

    expect(answer.status).toBe(503);
    expect(answer.body.message).toMatch(/connection leasing is turned off/);
    await waitForNormal().catch(() => {});
    await apply(site());
  });
});
