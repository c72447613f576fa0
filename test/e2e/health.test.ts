/**
 * The guide's health queries on the local runtime, over HTTP: each verdict of is_alive,
 * cb_status and cb_version, with the site database cut away mid-run through a TCP proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { captureLogs } from '../helpers/logs.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../helpers/pg.ts';
import { type SlapdInstance, startSlapd, testLdapServerConfig } from '../helpers/slapd.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

describe('health queries', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let slapd: SlapdInstance;
  let broker: TestBroker;
  let load = 0.2;
  const logs = captureLogs('WARN');
  /** What an answer must never name: the database's address, port, account and name. */
  const expectNothingInternal = (body: string) => {
    for (const secret of [String(proxy.port), '127.0.0.1', 'postgres', database.name]) {
      expect(body).not.toContain(secret);
    }
  };

  const query = async (action: string) => {
    const res = await broker.fetch(`/index.pl?action=${action}`);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };
  const applyConfig = async (document: unknown) => {
    const res = await broker.fetch('/api/v1/admin/config', {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await broker.adminToken()}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(document),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    slapd = await startSlapd();
    const viaProxy = new URL(databaseUrl(database.name));
    viaProxy.port = String(proxy.port);
    broker = await startTestBroker({
      dbUrl: viaProxy.toString(),
      local: { loadAverage: () => load, logger: logs.logger },
    });
    await applyConfig({
      authServers: [
        { name: 'local', type: 'local' },
        testLdapServerConfig(slapd.url, { name: 'corp' }),
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await slapd?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('is_alive answers CB_IS_OKAY in text/plain when everything is up', async () => {
    expect(await query('is_alive')).toEqual({
      status: 200,
      body: 'CB_IS_OKAY',
      type: 'text/plain; charset=utf-8',
    });
  });

  it('cb_version prints the version', async () => {
    expect(await query('cb_version')).toMatchObject({ status: 200, body: pkg.version });
  });

  it('an unknown action is a 400 with a JSON error', async () => {
    const res = await broker.fetch('/index.pl?action=reboot');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      message: 'action: must be is_alive, cb_status or cb_version',
    });
  });

  it('is_alive is 503 while the load average is over the limit', async () => {
    load = 4.5;
    try {
      expect(await query('is_alive')).toMatchObject({
        status: 503,
        body: 'ERROR_MESSAGE: load average 4.50 is above 4',
      });
      expect((await query('cb_status')).body).toBe('CB_IS_OKAY');
    } finally {
      load = 0.2;
    }
    expect((await query('is_alive')).status).toBe(200);
  });

  it('is_alive is 503 when an LDAP server does not answer, and names it', async () => {
    await applyConfig({
      authServers: [
        { name: 'local', type: 'local' },
        testLdapServerConfig(slapd.url, { name: 'corp' }),
        testLdapServerConfig('ldap://127.0.0.1:1', { name: 'branch', timeoutMs: 300 }),
      ],
    });
    try {
      const answer = await query('is_alive');
      expect(answer.status).toBe(503);
      expect(answer.body).toBe(
        'ERROR_MESSAGE: authentication server "branch" is not reachable (connection refused)',
      );
      expect(logs.text()).toContain('ECONNREFUSED 127.0.0.1:1');
      expect(answer.body).not.toContain('"corp"');
      expect((await query('cb_status')).body).toBe('CB_IS_OKAY');
    } finally {
      await applyConfig({
        authServers: [
          { name: 'local', type: 'local' },
          testLdapServerConfig(slapd.url, { name: 'corp' }),
        ],
      });
    }
  });

  it('a disabled LDAP server does not count', async () => {
    await applyConfig({
      authServers: [
        { name: 'local', type: 'local' },
        testLdapServerConfig('ldap://127.0.0.1:1', { name: 'branch', enabled: false }),
      ],
    });
    expect((await query('is_alive')).status).toBe(200);
  });

  it('is_alive is 503 and cb_status reports an ERROR_MESSAGE (still 200) while the database is down', async () => {
    await proxy.cut('refuse');
    try {
      const started = Date.now();
      const alive = await query('is_alive');
      const status = await query('cb_status');

      expect(alive.status).toBe(503);
      expect(alive.body).toMatch(/^ERROR_MESSAGE: site database is not reachable \([a-z ]+\)$/);
      expect(status.status).toBe(200);
      expect(status.body).toMatch(
        /^ERROR_MESSAGE: site database is not reachable \([a-z ]+\)\nmode: leased/,
      );
      expectNothingInternal(alive.body);
      expectNothingInternal(status.body);
      // The whole story is in the log, for whoever runs the broker.
      expect(logs.text()).toContain(`127.0.0.1:${proxy.port}`);
      expect(logs.text()).toContain(database.name);
      expect((await query('cb_version')).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await proxy.restore();
    }
    await expect
      .poll(async () => (await query('is_alive')).body, { timeout: 10_000 })
      .toBe('CB_IS_OKAY');
  });

  it('answers within the timeout when the database hangs instead of refusing', async () => {
    await proxy.cut('blackhole');
    try {
      const started = Date.now();
      const alive = await query('is_alive');
      expect(alive.status).toBe(503);
      // The cut drops the pooled connection (lost) or a new one hangs (no answer in time).
      expect(alive.body).toMatch(
        /^ERROR_MESSAGE: site database is not reachable \((no answer in time|connection lost)\)$/,
      );
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await proxy.restore();
    }
    await expect
      .poll(async () => (await query('is_alive')).body, { timeout: 15_000 })
      .toBe('CB_IS_OKAY');
  });
});
