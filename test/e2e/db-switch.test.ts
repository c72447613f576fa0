/**
 * `deskbroker db switch`, as a user runs it: a PGlite site with the demo data is copied into
 * an empty PostgreSQL database (progress on stderr, a row count per table), both export the
 * same configuration, a second copy into the now-used database is refused, --attach joins it,
 * and a broker started on it signs the administrator in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.ts';
import { startLocalBroker } from '../../functions/local/runtime.ts';
import { startTestBroker, TEST_ADMIN_PASSWORD } from '../helpers/broker.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

let home: string;
let target: TestDatabase;
let empty: TestDatabase;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-switch-'));
  [target, empty] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  // A site as `npm start` leaves it: embedded database, demo data, the admin account.
  const local = await startLocalBroker(
    loadConfig({
      PORT: '0',
      DESKBROKER_HOME: home,
      DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      LOG_LEVEL: 'SILENT',
    }),
  );
  await local.stop();
}, 60_000);

afterAll(async () => {
  rmSync(home, { recursive: true, force: true });
  await target?.drop();
  await empty?.drop();
});

describe('deskbroker db switch', () => {
  it('copies the embedded site into an empty PostgreSQL database: the same export on both', async () => {
    const env = { DESKBROKER_HOME: home };

    const copied = await runCli(['db', 'switch', '--to', target.url, '--copy'], env);
    const fromPglite = await runCli(['export', '--format', 'json'], env);
    const fromPostgres = await runCli(['export', '--format', 'json', '--db', target.url], env);

    expect(copied.stderr).toMatch(/copying \[#+\] 100%/);
    expect(copied.stdout).toMatch(/^desktop\s+4\s+4$/m);
    expect(copied.stdout).toMatch(/^user_account\s+4\s+4$/m);
    expect(copied.stdout).toMatch(/every count matches/);
    expect(copied.stdout).toMatch(/SITE_DB_URL=/);
    expect(copied.code).toBe(0);
    expect(fromPglite.code).toBe(0);
    expect(JSON.parse(fromPostgres.stdout)).toEqual(JSON.parse(fromPglite.stdout));
    expect(JSON.parse(fromPostgres.stdout).users.map((u: { name: string }) => u.name)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  }, 90_000);

  it('refuses to copy into a database that already holds a site', async () => {
    const again = await runCli(['db', 'switch', '--to', target.url, '--copy'], {
      DESKBROKER_HOME: home,
    });

    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a site .*use --attach/);
  }, 60_000);

  it('attaches to an existing site, and not to an empty database', async () => {
    const attached = await runCli([
      'db',
      'switch',
      '--to',
      target.url,
      '--attach',
      '--site-id',
      '2',
    ]);
    const refused = await runCli(['db', 'switch', '--to', empty.url, '--attach']);
    const usage = await runCli(['db', 'switch', '--to', target.url]);

    expect(attached.code).toBe(0);
    expect(attached.stdout).toMatch(/a site at schema version [\w-]+, 1 broker\(s\)/);
    expect(attached.stdout).toMatch(/site 1\s+Stopped/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds no site/);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('serves logins from the copied site', async () => {
    const broker = await startTestBroker({
      dbUrl: target.url,
      env: { SITE_ID: '2', LOG_LEVEL: 'ERROR' },
    });
    try {
      const login = await broker.fetch('/api/v1/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'alice-demo-pass' }),
      });
      expect(login.status).toBe(200);
      expect(await broker.adminToken()).toMatch(/^\S{20,}$/);
    } finally {
      await broker.stop();
    }
  }, 60_000);
});
