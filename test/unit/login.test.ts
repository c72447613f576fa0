/**
 * Signing in (core/login/login.ts) over in-memory ports: the session and offers, the client
 * registration, throttling per account and per address, the one-time code, the log row of
 * every attempt, and leased mode when the site database does not answer.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../functions/core/desktops/desktops.ts';
import {
  AuthServerUnavailableError,
  DatabaseUnavailableError,
} from '../../functions/core/errors.ts';
import { type LoginInput, login } from '../../functions/core/login/login.ts';
import { totpCode } from '../../functions/core/login/mfa.ts';
import { hashToken } from '../../functions/core/login/sessions.ts';
import { type MemoryBroker, memoryBroker } from '../helpers/memory-broker.ts';
import { MemoryAccountStore } from '../helpers/memory-login.ts';

const MFA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

const SITE = {
  authServers: [
    { name: 'local', type: 'local' as const },
    { name: 'corp', type: 'ldap' as const, url: 'ldap://ldap.example.org', userBase: 'dc=x' },
  ],
  roles: [{ name: 'User' }, { name: 'Admin', admin: true }],
  pools: [
    { name: 'assigned', desktops: [{ name: 'ann-ws', address: '10.0.0.1', assignedTo: 'ann' }] },
    { name: 'desks', desktops: [{ name: 'desk-1', address: '10.0.1.1' }] },
  ],
  locations: [
    {
      name: 'lab',
      rules: [{ attribute: 'ip' as const, op: 'in_range' as const, value: '10.7.0.0/16' }],
    },
  ],
  policies: [{ name: 'p', entries: [{ pool: 'assigned' }, { pool: 'desks' }] }],
  assignments: [
    { group: 'Admins', role: 'Admin', policy: 'p' },
    { group: 'Secure', mfa: 'totp' as const, role: 'User', policy: 'p' },
    { group: 'Lab', location: 'lab', role: 'User', policy: 'p' },
    { group: 'Staff', role: 'User', policy: 'p' },
  ],
  settings: { clientHeaders: ['user-agent'] },
};

const broker = () => {
  const b = memoryBroker(SITE, {
    accounts: [
      MemoryAccountStore.account('admin', 'admin-password', { authServer: null, builtin: true }),
      MemoryAccountStore.account('ann', 'ann-password', { groups: ['Staff'] }),
      MemoryAccountStore.account('dee', 'dee-password', {
        groups: ['Secure'],
        mfaSecret: MFA_SECRET,
      }),
      MemoryAccountStore.account('lab', 'lab-password', { groups: ['Lab'] }),
    ],
  });
  b.directory.users.set('lou', { password: 'lou-password', groups: ['Staff'] });
  return b;
};

const input = (username: string, password: string, over: Partial<LoginInput> = {}): LoginInput => ({
  username,
  password,
  client: {
    ip: '10.1.1.1',
    name: 'laptop',
    loginGateway: null,
    headers: { 'user-agent': 'test-agent/1', 'x-other': 'not recorded' },
  },
  reported: { os: 'linux' },
  ...over,
});

const attempt = (b: MemoryBroker, i: LoginInput) =>
  login(b.loginDeps, i).catch((e: { status: number; code: string }) => `${e.status} ${e.code}`);

describe('login', () => {
  it('signs a local account in: a session, the offers, the client and its log row', async () => {
    const b = broker();

    const { token, session, offers } = await login(b.loginDeps, input('ann', 'ann-password'));

    expect(session).toMatchObject({ user: 'ann', role: 'User', policy: 'p', mode: 'normal' });
    expect(b.sessions.sessions.get(hashToken(token))).toEqual(session);
    expect(offers.map((o) => [o.name, o.status])).toEqual([
      ['ann-ws', 'assigned'],
      ['desk-1', 'available'],
    ]);
    expect([...b.site.clients.values()]).toEqual([
      expect.objectContaining({
        name: 'laptop',
        ip: '10.1.1.1',
        attributes: { 'user-agent': 'test-agent/1', os: 'linux' },
      }),
    ]);
    expect(b.site.log).toEqual([
      expect.objectContaining({
        event: 'login',
        user: 'ann',
        clientIp: '10.1.1.1',
        detail: 'local',
      }),
    ]);
  });

  it('signs in the built-in administrator and a directory user', async () => {
    const b = broker();
    const admin = await login(b.loginDeps, input('admin', 'admin-password'));
    const lou = await login(b.loginDeps, input('lou', 'lou-password'));

    expect(admin.session).toMatchObject({ role: 'Administrator', isAdmin: true, policy: null });
    expect(lou.session).toMatchObject({ user: 'lou', authServer: 'corp', groups: ['Staff'] });
  });

  it('uses the client’s location for the assignment', async () => {
    const b = broker();
    const outside = await attempt(b, input('lab', 'lab-password'));
    const inside = await login(b.loginDeps, {
      ...input('lab', 'lab-password'),
      client: { ip: '10.7.3.4', name: 'x', loginGateway: null, headers: {} },
    });

    expect(outside).toBe('403 no_assignment');
    expect(inside.session.locations).toEqual(['lab']);
  });

  it('locks an account after three failures, even for the right password, then lets it in', async () => {
    const b = broker();
    const from = (ip: string) => ({
      ...input('ann', 'ann-password'),
      client: { ...input('a', 'b').client, ip },
    });
    const wrong = (ip: string) => ({ ...from(ip), password: 'wrong' });

    const results = [
      await attempt(b, wrong('10.0.0.1')),
      await attempt(b, wrong('10.0.0.2')),
      await attempt(b, wrong('10.0.0.3')),
      await attempt(b, from('10.0.0.4')),
    ];
    b.clock.advance(61_000);
    const later = await login(b.loginDeps, from('10.0.0.4'));

    expect(results).toEqual([
      '401 invalid_credentials',
      '401 invalid_credentials',
      '401 invalid_credentials',
      '429 too_many_attempts',
    ]);
    expect(later.session.user).toBe('ann');
  });

  it('forgets an account’s failures after a good login', async () => {
    const b = broker();
    const at = (password: string, ip: string) =>
      attempt(b, { ...input('ann', password), client: { ...input('a', 'b').client, ip } });
    await at('wrong', '10.0.0.1');
    await at('wrong', '10.0.0.2');
    await at('ann-password', '10.0.0.3');
    const cleared = b.throttle.counters.has('user:ann');
    await at('wrong', '10.0.0.4');
    await at('wrong', '10.0.0.5');

    expect(cleared).toBe(false);
    // Two more failures do not lock it: the count started over.
    expect(await at('ann-password', '10.0.0.6')).toMatchObject({ session: { user: 'ann' } });
  });

  it('locks a source address that tries many accounts', async () => {
    const b = broker();
    for (const user of ['x1', 'x2', 'x3']) await attempt(b, input(user, 'nope'));

    expect(await attempt(b, input('ann', 'ann-password'))).toBe('429 too_many_attempts');
    expect(
      (
        await login(b.loginDeps, {
          ...input('ann', 'ann-password'),
          client: { ...input('a', 'b').client, ip: '10.1.1.2' },
        })
      ).session.user,
    ).toBe('ann');
  });

  it('asks for the one-time code when the assignment needs it, and checks it', async () => {
    const b = broker();
    const results = [
      await attempt(b, input('dee', 'dee-password')),
      await attempt(b, input('dee', 'dee-password', { mfaCode: '000000' })),
    ];
    // The prompt for a code is no failure: only the wrong code counts toward a lockout.
    const failures = b.throttle.counters.get('user:dee')?.failures;
    const right = await login(
      b.loginDeps,
      input('dee', 'dee-password', { mfaCode: await totpCode(MFA_SECRET, b.clock.now()) }),
    );

    expect(results).toEqual(['401 mfa_required', '401 invalid_mfa_code']);
    expect(right.session.user).toBe('dee');
    expect(failures).toBe(1);
  });

  it('logs every attempt, with the reason of a refusal', async () => {
    const b = broker();
    await attempt(b, input('ann', 'wrong'));
    await attempt(b, input('nobody', 'x'));
    await attempt(b, input('dee', 'dee-password'));
    await attempt(b, input('lab', 'lab-password'));
    b.directory.down = new AuthServerUnavailableError('corp');
    await attempt(b, input('lou', 'lou-password'));

    expect(b.site.log.map((r) => `${r.event} ${r.user} ${r.detail}`)).toEqual([
      'login_failed ann invalid_credentials',
      'login_failed nobody invalid_credentials',
      'login_failed dee mfa_required',
      'login_failed lab no_assignment',
      'login_failed lou auth_server_unavailable',
    ]);
  });
});

describe('login while the site database does not answer (leased mode)', () => {
  /** ann has launched her assigned desktop (a lease); her verifier is mirrored. */
  async function leased() {
    const b = broker();
    const { session } = await login(b.loginDeps, input('ann', 'ann-password'));
    await connect(b.desktopDeps, session, b.site.desktop('ann-ws').id);
    await b.mirror.putAccounts(b.accounts.accounts);
    b.site.failNext(new DatabaseUnavailableError(), 10);
    return b;
  }

  it('signs a leased user in from the mirror, offers the leases, logs to the outbox', async () => {
    const b = await leased();

    const { session, offers } = await login(b.loginDeps, input('ann', 'ann-password'));

    expect(session.mode).toBe('leased');
    expect(offers.map((o) => [o.name, o.status])).toEqual([['ann-ws', 'assigned']]);
    expect(b.outbox.items.map((i) => i.item)).toEqual([
      expect.objectContaining({
        kind: 'log',
        entry: expect.objectContaining({ event: 'login', user: 'ann', detail: 'local (leased)' }),
      }),
    ]);
  });

  it('refuses users without leases and revoked users with a 503 that says why', async () => {
    const b = await leased();
    const lou = await attempt(b, input('lou', 'lou-password'));
    await b.leases.revoke('ann');
    const ann = await login(b.loginDeps, input('ann', 'ann-password')).catch((e: Error) => e);

    expect(lou).toBe('503 site_database_unavailable');
    expect(ann).toMatchObject({ status: 503, message: expect.stringMatching(/revoked/) });
  });

  it('checks the password against the mirrored verifier', async () => {
    const b = await leased();
    expect(await attempt(b, input('ann', 'wrong'))).toBe('401 invalid_credentials');
    // The database still does not answer: the refusal's row waits in the outbox.
    expect(b.outbox.items.at(-1)?.item).toMatchObject({
      kind: 'log',
      entry: { event: 'login_failed', user: 'ann', detail: 'invalid_credentials' },
    });
  });
});
