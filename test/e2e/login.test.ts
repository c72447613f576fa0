/**
 * Signing in on the local runtime over HTTP: local and LDAP accounts, wrong passwords,
 * throttling, MFA, locations, sessions, and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../functions/core/login/mfa.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { testClock } from '../helpers/clock.ts';
import { clientOf, request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import {
  LDAP_USERS,
  type SlapdInstance,
  startSlapd,
  testLdapServerConfig,
} from '../helpers/slapd.ts';

const MFA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('login', () => {
  let database: TestDatabase;
  let slapd: SlapdInstance;
  let broker: TestBroker;
  const clock = testClock();
  const login = (body: Record<string, unknown>, from = '127.0.0.1') =>
    request(`${broker.url}/api/v1/login`, { method: 'POST', body, from });

  beforeAll(async () => {
    database = await createTestDatabase();
    slapd = await startSlapd();
    broker = await startTestBroker({
      dbUrl: database.url,
      env: { SESSION_IDLE_MINUTES: '10', LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_SECONDS: '60' },
      local: { demo: false, clock },
    });
    const res = await broker.fetch('/api/v1/admin/config', {
      method: 'PUT',
      headers: { authorization: `Bearer ${await broker.adminToken()}` },
      body: JSON.stringify({
        authServers: [
          { name: 'local', type: 'local' },
          testLdapServerConfig(slapd.url, { name: 'corp' }),
        ],
        users: [
          { name: 'carol', password: 'carol-password', groups: ['Staff'] },
          { name: 'dave', password: 'dave-password', groups: ['Secure'], mfaSecret: MFA_SECRET },
          { name: 'erin', password: 'erin-password', groups: ['Secure'] },
          { name: 'boss', password: 'boss-password', groups: ['Admins'] },
        ],
        roles: [{ name: 'User' }, { name: 'Remote' }, { name: 'Admin', admin: true }],
        protocolPlans: [
          { name: 'rdp', protocols: [{ protocol: 'rdp', port: 3389 }] },
          { name: 'office-vnc', protocols: [{ protocol: 'vnc', port: 5900 }] },
        ],
        pools: [
          {
            name: 'desks',
            desktops: [
              { name: 'desk-1', address: '10.0.0.1' },
              { name: 'desk-2', address: '10.0.0.2' },
            ],
          },
        ],
        locations: [
          {
            name: 'lab',
            rules: [{ attribute: 'ip', op: 'in_range', value: '127.0.0.64/26' }],
            protocolPlan: 'office-vnc',
          },
        ],
        policies: [{ name: 'std', entries: [{ pool: 'desks', offer: 1, protocolPlan: 'rdp' }] }],
        assignments: [
          { group: 'Admins', role: 'Admin', policy: 'std' },
          { group: 'Secure', mfa: 'totp', role: 'User', policy: 'std' },
          { group: 'Designers', location: 'lab', role: 'Remote', policy: 'std' },
          { group: '*', role: 'User', policy: 'std' },
        ],
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await slapd?.stop();
    await database?.drop();
  });

  it('signs in a local account: token, cookie, role, policy and offers', async () => {
    const answer = await login({
      username: 'carol',
      password: 'carol-password',
      client: { name: 'laptop-7' },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      mode: 'normal',
      user: { name: 'carol', groups: ['Staff'] },
      role: 'User',
      policy: 'std',
      offers: [
        {
          name: 'desk-1',
          pool: 'desks',
          status: 'available',
          protocols: [{ protocol: 'rdp', port: 3389, via: 'direct' }],
        },
      ],
    });
    expect(answer.body.token).toMatch(/^[\w-]{43}$/);
    expect(answer.headers['set-cookie']?.[0]).toMatch(/HttpOnly; Secure; SameSite=Strict$/);
    const client = await broker.broker.site.db
      .selectFrom('client')
      .selectAll()
      .where('name', '=', 'laptop-7')
      .executeTakeFirstOrThrow();
    expect(client).toMatchObject({ ip: '127.0.0.1', lastUser: 'carol', loginGateway: null });
  });

  it('signs in an LDAP user with the groups the directory holds', async () => {
    const answer = await login({ username: 'alice', password: LDAP_USERS.alice.password });

    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.user.groups.sort()).toEqual(['Designers', 'Engineers']);
    expect(answer.body.role).toBe('User');
  });

  it('gives a new token on every login', async () => {
    const a = await login({ username: 'carol', password: 'carol-password' });
    const b = await login({ username: 'carol', password: 'carol-password' });
    expect(a.body.token).not.toBe(b.body.token);
  });

  it('answers a wrong password and an unknown user the same way, in about the same time', async () => {
    const timed = async (body: Record<string, unknown>) => {
      const started = performance.now();
      const answer = await login(body, '127.0.0.5');
      return { answer, ms: performance.now() - started };
    };
    const wrong = await timed({ username: 'carol', password: 'not-her-password' });
    const unknown = await timed({ username: 'nobody-here', password: 'whatever-it-is' });
    const ldapWrong = await timed({ username: 'bob', password: 'wrong' });

    for (const { answer } of [wrong, unknown, ldapWrong]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        error: 'invalid_credentials',
        message: 'wrong user name or password',
      });
    }
    const times = [wrong.ms, unknown.ms, ldapWrong.ms];
    expect(Math.min(...times)).toBeGreaterThanOrEqual(249);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(150);
  });

  it('locks an account after repeated failures (429 with Retry-After), even for the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await login({ username: 'erin', password: `wrong-${i}` }, '127.0.0.6')).status).toBe(
        401,
      );
    }
    const locked = await login({ username: 'erin', password: 'erin-password' }, '127.0.0.7');

    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);

    clock.advance(61_000);
    const unlocked = await login({ username: 'erin', password: 'erin-password' }, '127.0.0.7');
    expect(unlocked.body.error).toBe('mfa_not_enrolled'); // past the password: no longer locked
  });

  it('locks a source address that tries many accounts', async () => {
    for (const user of ['x1', 'x2', 'x3']) {
      expect((await login({ username: user, password: 'nope-nope' }, '127.0.0.9')).status).toBe(
        401,
      );
    }
    expect(
      (await login({ username: 'carol', password: 'carol-password' }, '127.0.0.9')).status,
    ).toBe(429);
    expect(
      (await login({ username: 'carol', password: 'carol-password' }, '127.0.0.10')).status,
    ).toBe(200);
    clock.advance(61_000);
  });

  it('asks for the one-time code when the assignment needs MFA, and checks it', async () => {
    const without = await login({ username: 'dave', password: 'dave-password' });
    const wrong = await login({ username: 'dave', password: 'dave-password', mfaCode: '000000' });
    const right = await login({
      username: 'dave',
      password: 'dave-password',
      mfaCode: await totpCode(MFA_SECRET, clock.now()),
    });
    const notEnrolled = await login(
      { username: 'erin', password: 'erin-password', mfaCode: '123456' },
      '127.0.0.12',
    );

    expect(without.status).toBe(401);
    expect(without.body.error).toBe('mfa_required');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_mfa_code');
    expect(right.status).toBe(200);
    expect(notEnrolled.status).toBe(403);
    expect(notEnrolled.body.error).toBe('mfa_not_enrolled');
  });

  it('uses the location for the assignment and its protocol plan for the offers', async () => {
    const inLab = await login(
      { username: 'alice', password: LDAP_USERS.alice.password },
      '127.0.0.70',
    );
    const outside = await login(
      { username: 'alice', password: LDAP_USERS.alice.password },
      '127.0.0.20',
    );

    expect(inLab.body.role).toBe('Remote');
    expect(inLab.body.offers[0].protocols).toEqual([
      { protocol: 'vnc', port: 5900, via: 'direct' },
    ]);
    expect(outside.body.role).toBe('User');
    expect(outside.body.offers[0].protocols).toEqual([
      { protocol: 'rdp', port: 3389, via: 'direct' },
    ]);
  });

  it('never trusts a forwarded-for address the client sends', async () => {
    const answer = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'alice', password: LDAP_USERS.alice.password },
      headers: { 'x-forwarded-for': '127.0.0.70' },
      from: '127.0.0.20',
    });
    expect(answer.body.role).toBe('User');
  });

  it('gives an administrator role access to the admin API, and nobody else', async () => {
    const boss = clientOf(broker.url);
    const carol = clientOf(broker.url);
    await boss.login({ username: 'boss', password: 'boss-password' });
    await carol.login({ username: 'carol', password: 'carol-password' });

    expect((await boss.call('/api/v1/admin/config')).status).toBe(200);
    const denied = await carol.call('/api/v1/admin/config');
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ error: 'admin_only', message: 'this needs an administrator' });
  });

  it('ends a session after its idle time, and at logout', async () => {
    const user = clientOf(broker.url);
    await user.login({ username: 'carol', password: 'carol-password' });
    expect((await user.call('/api/v1/offers')).status).toBe(200);

    clock.advance(11 * 60_000);
    const expired = await user.call('/api/v1/offers');
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('session_expired');

    await user.login({ username: 'carol', password: 'carol-password' });
    expect((await user.call('/api/v1/logout', { method: 'POST' })).status).toBe(200);
    expect((await user.call('/api/v1/offers')).status).toBe(401);
  });

  it('answers bad input with 4xx and { error, message }', async () => {
    const cases: [unknown, number, string][] = [
      ['{not json', 400, 'invalid_json'],
      [{ username: 'carol' }, 400, 'invalid_request'],
      [{ username: 42, password: 'x' }, 400, 'invalid_request'],
      [{ username: 'carol', password: 'carol-password', extra: 1 }, 400, 'invalid_request'],
      [{ username: 'carol', password: 'carol-password', mfaCode: 'abc' }, 400, 'invalid_request'],
      [{ username: 'carol', password: 'x'.repeat(1_000_001) }, 413, 'body_too_large'],
      [
        { username: 'carol', password: 'carol-password', authServer: 'elsewhere' },
        401,
        'unknown_auth_server',
      ],
    ];
    for (const [body, status, error] of cases) {
      const answer = await login(body as Record<string, unknown>, '127.0.0.30');
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(answer.body).toMatchObject({ error, message: expect.any(String) });
    }
  });

  it('bounds what a client reports with a 400 that says the limit', async () => {
    const attrs = (n: number, size = 4) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'v'.repeat(size)]));
    const base = { username: 'carol', password: 'carol-password' };
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'n'.repeat(129) }, 'client.name: must be at most 128 characters'],
      [{ attributes: attrs(17) }, 'client.attributes: at most 16 attributes'],
      [
        { attributes: { os: 'v'.repeat(257) } },
        'client.attributes.os: must be at most 256 characters',
      ],
      [
        { attributes: { ['k'.repeat(65)]: 'v' } },
        `client.attributes: key "${'k'.repeat(64)}": must be at most 64 characters`,
      ],
      [
        { attributes: attrs(16, 200) },
        'client.attributes: at most 2048 bytes in all (as JSON); the broker keeps about 5 KB of database per login',
      ],
    ];
    for (const [client, message] of cases) {
      const answer = await login({ ...base, client }, '127.0.0.31');
      expect(answer.status, message).toBe(400);
      expect(answer.body).toEqual({ error: 'invalid_request', message });
    }

    const atLimit = await login(
      { ...base, client: { name: 'n'.repeat(128), attributes: attrs(16, 100) } },
      '127.0.0.31',
    );
    expect(atLimit.status, atLimit.text).toBe(200);
    const stored = await broker.broker.site.db
      .selectFrom('client')
      .select(['attributes'])
      .where('name', '=', 'n'.repeat(128))
      .executeTakeFirstOrThrow();
    expect(Object.keys(stored.attributes as object)).toHaveLength(16);
    expect(JSON.stringify(stored.attributes).length).toBeLessThan(5 * 1024);
  });

  it('leaves a log row for every sign-in attempt, good or bad', async () => {
    const from = '127.0.0.40';
    const carol = { username: 'carol', password: 'carol-password' };
    const answers = [
      await login(carol, from),
      await login({ username: 'carol', password: 'wrong-password' }, from),
      await login({ username: 'nobody-at-all', password: 'whatever-it-is' }, from),
      await login({ username: 'dave', password: 'dave-password' }, from),
      await login({ username: 'nul\u0000name', password: 'x' }, from),
      await login({ username: 'half\ud800', password: 'x' }, from),
      await request(`${broker.url}/api/v1/login`, { method: 'POST', body: '{not json', from }),
      await login({ username: 'carol', password: 'wrong-again' }, from),
      await login(carol, from),
    ];
    clock.advance(61_000);

    expect(answers.map((a) => a.status)).toEqual([200, 401, 401, 401, 400, 400, 400, 401, 429]);
    const rows = await broker.broker.site.db
      .selectFrom('log')
      .select(['event', 'userName', 'detail'])
      .where('clientIp', '=', from)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { event: 'login', userName: 'carol', detail: 'local' },
      { event: 'login_failed', userName: 'carol', detail: 'invalid_credentials' },
      { event: 'login_failed', userName: 'nobody-at-all', detail: 'invalid_credentials' },
      { event: 'login_failed', userName: 'dave', detail: 'mfa_required' },
      { event: 'login_failed', userName: 'nul\uFFFDname', detail: 'invalid_text' },
      { event: 'login_failed', userName: 'half\uFFFD', detail: 'invalid_text' },
      { event: 'login_failed', userName: null, detail: 'invalid_json' },
      { event: 'login_failed', userName: 'carol', detail: 'invalid_credentials' },
      { event: 'login_failed', userName: 'carol', detail: 'too_many_attempts' },
    ]);
  });

  it('writes one small log row per login', async () => {
    const rows = await broker.broker.site.db
      .selectFrom('log')
      .select(['event', 'userName', 'clientIp', 'detail'])
      .where('userName', '=', 'alice')
      .where('event', '=', 'login')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]).toEqual({
      event: 'login',
      userName: 'alice',
      clientIp: expect.any(String),
      detail: 'corp',
    });
  });
});
