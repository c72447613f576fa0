/**
 * The admin API the console uses, on the local runtime over HTTP, against PostgreSQL with
 * the demo site: desktops, release, pools, sessions, clients, gateways, the log and its
 * downloads, the job-queue summary; filters, cursor paging, a bad cursor (400), a user who is
 * not an administrator (403), leased mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../functions/core/login/sessions.ts';
import { DEMO_USERS } from '../../functions/local/demo-data.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { clientOf, type HttpAnswer, request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

let database: TestDatabase;
let broker: TestBroker;
let token: string;

const alice = () => {
  const c = clientOf(broker.url, '127.0.0.7');
  const password = DEMO_USERS.find((u) => u.name === 'alice')!.password;
  return { ...c, signIn: () => c.login({ username: 'alice', password }) };
};
const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
  request(`${broker.url}${path}`, { ...init, token });

/** Every page of a list, following nextCursor. */
async function allPages(path: string, key: string): Promise<{ items: unknown[]; pages: number }> {
  const items: unknown[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: HttpAnswer = await admin(
      `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status, res.text).toBe(200);
    items.push(...res.body[key]);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

beforeAll(async () => {
  database = await createTestDatabase();
  broker = await startTestBroker({ dbUrl: database.url });
  token = await broker.adminToken();
}, 60_000);

afterAll(async () => {
  await broker?.stop();
  await database?.drop();
});

describe('who may call the admin API', () => {
  it('refuses a signed-in user who is not an administrator (403) and nobody (401)', async () => {
    const user = alice();
    await user.signIn();
    for (const path of [
      '/api/v1/admin/desktops',
      '/api/v1/admin/pools',
      '/api/v1/admin/sessions',
      '/api/v1/admin/clients',
      '/api/v1/admin/gateways',
      '/api/v1/admin/log',
      '/api/v1/admin/log?format=csv',
      '/api/v1/admin/jobs/summary',
    ]) {
      const denied = await user.call(path);
      const anonymous = await request(`${broker.url}${path}`);
      expect(denied.status, path).toBe(403);
      expect(denied.body).toEqual({ error: 'admin_only', message: 'this needs an administrator' });
      expect(anonymous.status, path).toBe(401);
    }
    const release = await user.call('/api/v1/admin/desktops/1/release', { method: 'POST' });
    expect(release.status).toBe(403);
  });
});

describe('desktops and pools', () => {
  it('lists every demo desktop by name with its pool, address and state', async () => {
    const res = await admin('/api/v1/admin/desktops');

    expect(res.status, res.text).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.heartbeatSeconds).toBe(20);
    expect(
      res.body.desktops.map((d: { name: string; status: string; assignedTo: string | null }) => [
        d.name,
        d.status,
        d.assignedTo,
      ]),
    ).toEqual([
      ['alice-ws', 'assigned', 'alice'],
      ['demo-01', 'available', null],
      ['demo-02', 'available', null],
      ['demo-03', 'available', null],
    ]);
    expect(res.body.desktops[1]).toMatchObject({
      pool: 'demo',
      address: '127.0.0.11',
      heldBy: null,
      heldSince: null,
      agent: { managed: false, lastSeenAt: null, lastEvent: null },
      launchedFrom: null,
      leases: [],
    });
  });

  it('pages with limit and cursor, and refuses a cursor it did not give out', async () => {
    const first = await admin('/api/v1/admin/desktops?limit=3');
    const { items, pages } = await allPages('/api/v1/admin/desktops?limit=3', 'desktops');
    const forged = await admin('/api/v1/admin/desktops?cursor=not-a-cursor');
    const otherList = await admin(
      `/api/v1/admin/desktops?cursor=${(await admin('/api/v1/admin/pools?limit=1')).body.nextCursor ?? 'eyJrIjoicG9vbHMiLCJwIjoiZGVtbyJ9'}`,
    );
    const badLimit = await admin('/api/v1/admin/desktops?limit=0');

    expect(first.body.desktops).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(pages).toBe(2);
    expect(items.map((d) => (d as { name: string }).name)).toEqual([
      'alice-ws',
      'demo-01',
      'demo-02',
      'demo-03',
    ]);
    for (const bad of [forged, otherList]) {
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        error: 'invalid_request',
        message: 'cursor: is not a cursor this list gave out; start again without it',
      });
    }
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.message).toBe('limit: must be at least 1');
  });

  it('shows a desktop in use by the user who connected, from where, and releases it', async () => {
    const user = alice();
    const login = await user.signIn();
    const offer = login.body.offers.find((o: { name: string }) => o.name.startsWith('demo-'));
    const connect = await user.call(`/api/v1/offers/${offer.desktopId}/connect`, {
      method: 'POST',
    });
    expect(connect.status, connect.text).toBe(200);
    const id = connect.body.desktopId;

    const inUse = await admin('/api/v1/admin/desktops?status=in%20use');
    const byUser = await admin('/api/v1/admin/desktops?user=ALICE');
    const released = await admin(`/api/v1/admin/desktops/${id}/release`, { method: 'POST' });
    const again = await admin(`/api/v1/admin/desktops/${id}/release`, { method: 'POST' });
    const unknown = await admin('/api/v1/admin/desktops/999999/release', { method: 'POST' });
    const after = await admin('/api/v1/admin/desktops?status=in%20use');
    const log = await admin(`/api/v1/admin/log?event=release&user=alice`);

    expect(inUse.body.desktops).toHaveLength(1);
    expect(inUse.body.desktops[0]).toMatchObject({
      id,
      status: 'in use',
      heldBy: 'alice',
      heldSince: expect.any(String),
      launchedFrom: { address: '127.0.0.7', at: expect.any(String) },
    });
    expect(byUser.body.desktops.map((d: { name: string }) => d.name)).toContain('alice-ws');
    expect(byUser.body.desktops.map((d: { id: number }) => d.id)).toContain(id);
    expect(released.status, released.text).toBe(200);
    expect(released.body).toEqual({
      desktopId: id,
      name: connect.body.name,
      releasedFrom: 'alice',
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('desktop_not_held');
    expect(unknown.status).toBe(404);
    expect(after.body.desktops).toEqual([]);
    expect(log.body.log[0]).toMatchObject({
      event: 'release',
      user: 'alice',
      desktopId: id,
      detail: 'by administrator admin',
    });
  });

  it('filters by pool and status, and refuses an unknown status', async () => {
    const pool = await admin('/api/v1/admin/desktops?pool=demo&status=assigned');
    const none = await admin('/api/v1/admin/desktops?pool=nowhere');
    const bad = await admin('/api/v1/admin/desktops?status=busy');

    expect(pool.body.desktops.map((d: { name: string }) => d.name)).toEqual(['alice-ws']);
    expect(none.body.desktops).toEqual([]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
  });

  it('counts each pool’s desktops by state and names the policies using it', async () => {
    const res = await admin('/api/v1/admin/pools');
    const paged = await admin('/api/v1/admin/pools?limit=1');

    expect(res.status, res.text).toBe(200);
    expect(res.body.pools).toEqual([
      {
        name: 'demo',
        total: 4,
        available: 3,
        assigned: 1,
        inUse: 0,
        unreachable: 0,
        agentSilent: 0,
        policies: [{ name: 'demo', as: 'primary' }],
      },
    ]);
    expect(paged.body.nextCursor).toBeNull();
  });
});

describe('sessions and clients', () => {
  it('lists live sessions with client address and times; ending one signs its user out', async () => {
    const user = alice();
    const { token: userToken } = (await user.signIn()).body;
    const mine = await admin('/api/v1/admin/sessions?user=alice');
    const all = await allPages('/api/v1/admin/sessions?limit=1', 'sessions');
    const target = mine.body.sessions.find((s: { id: string }) => s.id === hashToken(userToken));

    expect(mine.status, mine.text).toBe(200);
    expect(target).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      user: 'alice',
      authServer: 'local',
      role: 'User',
      isAdmin: false,
      locations: [],
      mode: 'normal',
      self: false,
    });
    expect(Date.parse(target.endsAt)).toBeGreaterThan(Date.parse(target.lastSeenAt));
    expect(all.pages).toBeGreaterThan(2);
    expect(all.items.some((s) => (s as { self: boolean }).self)).toBe(true);

    const before = await user.call('/api/v1/offers');
    const ended = await admin(`/api/v1/admin/sessions/${target.id}`, { method: 'DELETE' });
    const afterwards = await user.call('/api/v1/offers');
    const twice = await admin(`/api/v1/admin/sessions/${target.id}`, { method: 'DELETE' });
    const malformed = await admin('/api/v1/admin/sessions/xyz', { method: 'DELETE' });

    expect(before.status).toBe(200);
    expect(ended.body).toEqual({ ended: true, user: 'alice' });
    expect(afterwards.status).toBe(401);
    expect(twice.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/^sessionId: must be a session id/);
    const log = await admin('/api/v1/admin/log?event=session_ended');
    expect(log.body.log[0]).toMatchObject({ user: 'alice', detail: 'by administrator admin' });
  });

  it('lists registered clients, most recent first, with the locations they are in', async () => {
    const put = await admin('/api/v1/admin/config?format=json');
    const config = put.body;
    config.locations = [
      {
        name: 'loopback',
        match: 'all',
        rules: [{ attribute: 'ip', op: 'in_range', value: '127.0.0.0/8' }],
      },
    ];
    expect((await admin('/api/v1/admin/config', { method: 'PUT', body: config })).status).toBe(200);
    await alice().signIn();

    const res = await admin('/api/v1/admin/clients?user=alice');
    const paged = await allPages('/api/v1/admin/clients?limit=1', 'clients');
    const bad = await admin('/api/v1/admin/clients?cursor=eyJrIjoiY2xpZW50cyIsInAiOnt9fQ');

    expect(res.status, res.text).toBe(200);
    expect(res.body.clients[0]).toMatchObject({
      address: '127.0.0.7',
      lastUser: 'alice',
      locations: ['loopback'],
      loginGateway: null,
      lastLoginAt: expect.any(String),
    });
    expect(paged.items.length).toBeGreaterThanOrEqual(2);
    const times = paged.items.map((c) => Date.parse((c as { lastLoginAt: string }).lastLoginAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(bad.status).toBe(400);
  });
});

describe('gateways', () => {
  it('lists each gateway with its state since when, forwards open and clusters', async () => {
    const config = (await admin('/api/v1/admin/config?format=json')).body;
    config.gateways = [
      {
        name: 'gw-a',
        address: '10.0.0.1',
        publicAddress: 'a.example.org',
        controlUrl: 'http://10.0.0.1:9443',
      },
      {
        name: 'gw-b',
        address: '10.0.0.2',
        publicAddress: 'b.example.org',
        controlUrl: 'http://10.0.0.2:9443',
      },
    ];
    config.gatewayClusters = [{ name: 'east', mode: 'fewest', members: ['gw-a', 'gw-b'] }];
    expect((await admin('/api/v1/admin/config', { method: 'PUT', body: config })).status).toBe(200);
    const db = broker.broker.site.db;
    await db
      .updateTable('gateway')
      .set({
        status: 'down',
        checkedAt: new Date('2026-01-01T10:00:00Z'),
        statusSince: new Date('2026-01-01T09:00:00Z'),
      })
      .where('name', '=', 'gw-b')
      .execute();

    const res = await admin('/api/v1/admin/gateways');
    const pages = await allPages('/api/v1/admin/gateways?limit=1', 'gateways');

    expect(res.status, res.text).toBe(200);
    expect(res.body.checked).toBe(false);
    expect(res.body.gateways).toEqual([
      {
        source: 'configured',
        name: 'gw-a',
        address: '10.0.0.1',
        publicAddress: 'a.example.org',
        controlUrl: 'http://10.0.0.1:9443',
        portRange: [20001, 23000],
        status: 'unknown',
        statusSince: null,
        checkedAt: null,
        reported: null,
        forwardsOpen: 0,
        clusters: ['east'],
      },
      expect.objectContaining({
        source: 'configured',
        name: 'gw-b',
        status: 'down',
        statusSince: '2026-01-01T09:00:00.000Z',
        checkedAt: '2026-01-01T10:00:00.000Z',
      }),
    ]);
    expect(pages.items).toHaveLength(2);
  });
});

describe('the log', () => {
  beforeAll(async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({
      at: new Date(Date.UTC(2026, 0, 1, 12, 0, i)),
      event: i % 2 === 0 ? 'login' : 'logout',
      userName: i % 3 === 0 ? 'Zed' : 'yan',
      clientIp: '10.9.9.9',
      siteId: 1,
      detail: i === 4 ? '=HYPERLINK("x"), "quoted"' : `row ${i}`,
    }));
    await broker.broker.site.db.insertInto('log').values(rows).execute();
  });

  it('filters by user, event and time, newest first, paged without gaps or repeats', async () => {
    const range = 'from=2026-01-01T12:00:05Z&to=2026-01-01T12:00:25Z';
    const zed = await allPages(`/api/v1/admin/log?user=zed&${range}&limit=2`, 'log');
    const logouts = await admin(`/api/v1/admin/log?event=logout&${range}&limit=100`);

    const zedSeconds = zed.items.map((r) => new Date((r as { at: string }).at).getUTCSeconds());
    expect(zedSeconds).toEqual([24, 21, 18, 15, 12, 9, 6]);
    expect(zed.pages).toBe(4);
    expect(zed.items.every((r) => (r as { user: string }).user === 'Zed')).toBe(true);
    expect(logouts.body.log).toHaveLength(10);
    expect(logouts.body.log.every((r: { event: string }) => r.event === 'logout')).toBe(true);
  });

  it('refuses a bad time range, a bad cursor, and a list cursor given to a download', async () => {
    const backwards = await admin(
      '/api/v1/admin/log?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
    );
    const notATime = await admin('/api/v1/admin/log?from=yesterday');
    const bad = await admin('/api/v1/admin/log?cursor=AAAA');
    const listCursor = (await admin('/api/v1/admin/log?limit=1')).body.nextCursor;
    const mixed = await admin(`/api/v1/admin/log?format=csv&cursor=${listCursor}`);

    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toBe('to: must be after from');
    expect(notATime.status).toBe(400);
    expect(bad.status).toBe(400);
    expect(mixed.status).toBe(400);
    expect(mixed.body.message).toMatch(/^cursor: belongs to the other kind/);
  });

  it('downloads the matching rows as CSV and as JSON lines, oldest first', async () => {
    const csv = await admin(
      '/api/v1/admin/log?format=csv&user=yan&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
    );
    const jsonl = await admin(
      '/api/v1/admin/log?format=jsonl&user=zed&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
    );

    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(
      /^attachment; filename="deskbroker-log-\d{4}-\d\d-\d\d\.csv"$/,
    );
    expect(csv.headers['transfer-encoding']).toBe('chunked');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,at,event,user,desktopId,desktop,clientIp,siteId,detail');
    expect(lines).toHaveLength(1 + 20);
    expect(lines[1]).toMatch(/^\d+,2026-01-01T12:00:01\.000Z,logout,yan,,,10\.9\.9\.9,1,row 1$/);
    expect(lines).toContainEqual(expect.stringMatching(/,"'=HYPERLINK\(""x""\), ""quoted"""$/));
    const records = jsonl.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.headers['content-type']).toBe('application/jsonl; charset=utf-8');
    expect(records.map((r) => new Date(r.at).getUTCSeconds())).toEqual([
      0, 3, 6, 9, 12, 15, 18, 21, 24, 27,
    ]);
    expect(records[0]).toEqual({
      id: expect.any(Number),
      at: '2026-01-01T12:00:00.000Z',
      event: 'login',
      user: 'Zed',
      desktopId: null,
      desktop: null,
      clientIp: '10.9.9.9',
      siteId: 1,
      detail: 'row 0',
    });
  });
});

describe('the job queue', () => {
  it('counts jobs by status, names the oldest pending one, and pages the list', async () => {
    const ledger = broker.broker.jobs.ledger;
    await ledger.record({ kind: 'purge_records' }, 'admin-test-1', {
      runAt: Date.now() + 3_600_000,
    });
    await ledger.record({ kind: 'purge_records' }, 'admin-test-2', {
      runAt: Date.now() + 3_600_000,
    });

    const summary = await admin('/api/v1/admin/jobs/summary');
    const pages = await allPages('/api/v1/admin/jobs?limit=2&kind=purge_records', 'jobs');

    expect(summary.status, summary.text).toBe(200);
    expect(summary.body.counts.pending).toBeGreaterThanOrEqual(2);
    expect(Object.keys(summary.body.counts).sort()).toEqual([
      'aborted',
      'cancelled',
      'deferred',
      'finished',
      'pending',
      'running',
    ]);
    expect(summary.body.oldestPending).toMatchObject({
      id: expect.any(Number),
      kind: expect.any(String),
    });
    expect(summary.body.oldestPending.waitingSeconds).toBeGreaterThanOrEqual(0);
    const ids = pages.items.map((j) => (j as { id: number }).id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });
});

describe('the configuration, as the console edits it', () => {
  const put = (text: string, query = '') =>
    request(`${broker.url}/api/v1/admin/config${query}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml' },
      body: text,
      token,
    });

  it('exports no clear secret, and the export applies back unchanged', async () => {
    const config = (await admin('/api/v1/admin/config?format=json')).body;
    config.authServers.push({
      name: 'corp',
      type: 'ldap',
      url: 'ldap://127.0.0.1:3899',
      bindDn: 'cn=reader',
      bindPassword: 'bind-secret-42',
      userBase: 'ou=people',
      enabled: false,
    });
    config.users[0].mfaSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const desktop = config.pools[0].desktops.find((d: { name: string }) => d.name === 'demo-03');
    desktop.agentKey = 'agent-key-of-demo-03-0123456789';
    expect((await admin('/api/v1/admin/config', { method: 'PUT', body: config })).status).toBe(200);
    const before = await broker.broker.siteConfig.read();
    const keyHash = before.pools[0]!.desktops.find((d) => d.name === 'demo-03')?.agentKeyHash;

    const yaml = await admin('/api/v1/admin/config?format=yaml');
    const again = await put(yaml.text);

    expect(yaml.text).not.toContain('bind-secret-42');
    expect(yaml.text).not.toContain('JBSWY3DPEHPK3PXP');
    expect(yaml.text).toContain('bindPassword: (kept)');
    expect(yaml.text).toContain('mfaSecret: (kept)');
    expect(keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(again.status, again.text).toBe(200);
    expect(again.body.changed).toBe(false);
    // The stored (sealed) secrets are the ones from before the round trip.
    expect(await broker.broker.siteConfig.read()).toEqual(before);
  });

  it('names every problem with its path and the line of the file it is on', async () => {
    const text = [
      'roles: [{ name: User }]',
      'policies:',
      '  - name: p',
      '    entries:',
      '      - pool: nowhere',
      'assignments:',
      '  - { group: "*", role: Boss, policy: p }',
      '',
    ].join('\n');

    const res = await put(text, '?dryRun=true');

    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_config');
    expect(res.body.issues).toEqual(
      expect.arrayContaining([
        { path: 'policies[0].entries[0].pool', message: 'unknown pool "nowhere"', line: 5 },
        expect.objectContaining({ path: 'assignments[0].role', line: 7 }),
      ]),
    );
  });
});

describe('leased mode', () => {
  it('answers 503 for administration but still lists who is signed in', async () => {
    const breaker = broker.broker.leasing.breaker;
    breaker.failure();
    breaker.failure();
    try {
      const desktops = await admin('/api/v1/admin/desktops');
      const sessions = await admin('/api/v1/admin/sessions');
      const doc = await request(`${broker.url}/api/v1/openapi.json`);

      expect(desktops.status).toBe(503);
      expect(desktops.body.error).toBe('site_database_unavailable');
      expect(sessions.status).toBe(200);
      expect(sessions.body.sessions.length).toBeGreaterThan(0);
      expect(doc.status).toBe(200);
    } finally {
      breaker.success();
    }
  });
});
