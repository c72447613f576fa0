/**
 * Lease administration as Citrix's cmdlets, over the admin API and the CLI: list with filters
 * (user, desktop, live or expired) a page at a time, remove by desktop or by user (one or
 * all), and a rebuild that leases only the hard-assigned desktops that were launched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_ADMIN_PASSWORD, type TestBroker } from '../helpers/broker.ts';
import { runCli } from '../helpers/cli.ts';
import { testClock } from '../helpers/clock.ts';
import { clientOf, request } from '../helpers/http.ts';

const PASSWORD = 'lease-admin-password';
const USERS = ['ann', 'bob', 'cat'];

describe('lease administration', () => {
  let broker: TestBroker;
  let token: string;
  const clock = testClock();
  const site = (catAssigned = true) => ({
    authServers: [{ name: 'local', type: 'local' }],
    users: USERS.map((name) => ({ name, password: PASSWORD, groups: ['Staff'] })),
    roles: [{ name: 'User' }],
    pools: [
      {
        name: 'assigned',
        desktops: [
          { name: 'ann-ws', address: '10.0.0.1', assignedTo: 'ann' },
          { name: 'ann-spare', address: '10.0.0.2', assignedTo: 'ann' },
          { name: 'bob-ws', address: '10.0.0.3', assignedTo: 'bob' },
          { name: 'cat-ws', address: '10.0.0.4', ...(catAssigned ? { assignedTo: 'cat' } : {}) },
        ],
      },
    ],
    policies: [{ name: 'p', entries: [{ pool: 'assigned', offer: 1 }] }],
    assignments: [{ group: 'Staff', role: 'User', policy: 'p' }],
  });
  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    request(`${broker.url}/api/v1/admin/leases${path}`, { ...init, token });
  const names = (answer: { body: { leases: { user: string; desktopName: string }[] } }) =>
    answer.body.leases.map((l) => `${l.user}:${l.desktopName}`).sort();
  const idOf = async (name: string) =>
    (
      await broker.broker.site.db
        .selectFrom('desktop')
        .select('id')
        .where('name', '=', name)
        .where('deletedAt', 'is', null)
        .executeTakeFirstOrThrow()
    ).id;
  const apply = async (document: unknown) => {
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      body: document,
      token,
    });
    expect(res.status, res.text).toBe(200);
  };
  /** Each user launches their first offered (hard-assigned) desktop. */
  const launchAll = async () => {
    for (const name of USERS) {
      const u = clientOf(broker.url);
      const login = await u.login({ username: name, password: PASSWORD });
      const desktop = login.body.offers.find((o: { name: string }) => o.name === `${name}-ws`);
      const connect = await u.call(`/api/v1/offers/${desktop.desktopId}/connect`, {
        method: 'POST',
      });
      expect(connect.status, connect.text).toBe(200);
    }
  };

  beforeAll(async () => {
    broker = await startTestBroker({ local: { demo: false, clock } });
    token = await broker.adminToken();
    await apply(site());
    await launchAll();
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('lists leases by user and by desktop, a page at a time', async () => {
    const all = await admin('');
    const ann = await admin('?user=ann');
    const bobDesktop = await admin(`?desktopId=${await idOf('bob-ws')}`);
    const first = await admin('?limit=2');
    const second = await admin(`?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);

    expect(names(all)).toEqual(['ann:ann-ws', 'bob:bob-ws', 'cat:cat-ws']);
    expect(all.body.leases.every((l: { state: string }) => l.state === 'live')).toBe(true);
    expect(names(ann)).toEqual(['ann:ann-ws']);
    expect(names(bobDesktop)).toEqual(['bob:bob-ws']);
    expect(first.body.leases).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(second.body).toMatchObject({ nextCursor: null });
    expect([...names(first), ...names(second)].sort()).toEqual(names(all));
    expect((await admin('?cursor=bogus')).body).toMatchObject({ error: 'invalid_cursor' });
    expect((await admin('?state=stale')).status).toBe(400);
  });

  it('removes the leases of a desktop, of a user, or every lease; refuses an unfiltered delete', async () => {
    const refused = await admin('', { method: 'DELETE' });
    const byDesktop = await admin(`?desktopId=${await idOf('bob-ws')}`, { method: 'DELETE' });
    const byUser = await admin('?user=ann', { method: 'DELETE' });
    const left = names(await admin(''));
    const everything = await admin('?all=true', { method: 'DELETE' });

    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/name a user, a desktop/);
    expect([byDesktop.body, byUser.body]).toEqual([{ removed: 1 }, { removed: 1 }]);
    expect(left).toEqual(['cat:cat-ws']);
    expect(everything.body).toEqual({ removed: 1 });
    expect((await admin('')).body.leases).toEqual([]);
  });

  it('rebuilds leases only for the hard-assigned desktops that were launched, and drops stale ones', async () => {
    const rebuilt = await admin('/rebuild', { method: 'POST' });
    const afterRebuild = names(await admin(''));
    await apply(site(false)); // cat-ws is no longer cat's
    const again = await admin('/rebuild', { method: 'POST' });

    expect(rebuilt.body).toMatchObject({ leases: 3, written: 3, removed: 0 });
    // ann-spare is hard-assigned to ann but was never launched: no lease for it.
    expect(afterRebuild).toEqual(['ann:ann-ws', 'bob:bob-ws', 'cat:cat-ws']);
    expect(again.body).toMatchObject({ leases: 2, written: 0, removed: 1 });
    expect(names(await admin(''))).toEqual(['ann:ann-ws', 'bob:bob-ws']);
  });

  it('does the same from the CLI through a running broker', async () => {
    const env = { DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD };
    const url = ['--url', broker.url];

    const listed = await runCli(['leases', 'list', '--user', 'bob', ...url], env);
    const removed = await runCli(
      ['leases', 'remove', '--desktop', String(await idOf('ann-ws')), ...url],
      env,
    );
    const bad = await runCli(['leases', 'remove', ...url], env);
    const left = await runCli(['leases', 'list', ...url], env);

    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^bob\s+bob-ws \(\d+\)\s+rdp\s+last launch \S+\s+expires \S+\n$/);
    expect(removed.stdout).toBe('1 lease(s) removed\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/remove takes --user, --desktop or both, or --all alone/);
    expect(left.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('lists expired leases apart from live ones', async () => {
    clock.advance(15 * 86_400_000);
    token = await broker.adminToken(); // the old session's time is up too

    expect((await admin('')).body.leases).toEqual([]);
    const expired = await admin('?state=expired');
    expect(names(expired)).toEqual(['bob:bob-ws']);
    expect(expired.body.leases[0].state).toBe('expired');
    expect(names(await admin('?state=all'))).toEqual(['bob:bob-ws']);
  });
});
