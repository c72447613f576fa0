/**
 * Configuration as code on the local runtime: the admin API (`/api/v1/admin/config`) and the
 * `deskbroker apply` / `export` commands.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  jsonOf,
  startTestBroker,
  TEST_ADMIN_PASSWORD,
  type TestBroker,
} from '../helpers/broker.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/site.yaml');

describe('configuration as code over the admin API', () => {
  let broker: TestBroker;
  let token: string;
  const put = (body: string, query = '') =>
    broker.fetch(`/api/v1/admin/config${query}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
      body,
    });

  beforeAll(async () => {
    broker = await startTestBroker({ local: { demo: false } });
    token = await broker.adminToken();
  }, 60_000);
  afterAll(() => broker?.stop());

  it('needs an administrator session', async () => {
    const none = await broker.fetch('/api/v1/admin/config');
    const forged = await broker.fetch('/api/v1/admin/config', {
      headers: { authorization: 'Bearer forged' },
    });

    expect(none.status).toBe(401);
    expect(await jsonOf(none)).toEqual({
      error: 'unauthorized',
      message: 'sign in first (POST /api/v1/login)',
    });
    expect(forged.status).toBe(401);
    expect((await jsonOf(forged)).error).toBe('session_expired');
  });

  it('refuses a wrong admin password', async () => {
    const res = await broker.fetch('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong password' }),
    });
    expect(res.status).toBe(401);
    expect(await jsonOf(res)).toEqual({
      error: 'invalid_credentials',
      message: 'wrong user name or password',
    });
  });

  it('accepts the session cookie as well as the bearer header', async () => {
    const login = await broker.fetch('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^deskbroker_session=[\w-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/,
    );

    const res = await broker.fetch('/api/v1/admin/config', {
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(res.status).toBe(200);
  });

  it('applies YAML, is idempotent, and round-trips through export', async () => {
    const first = await put(readFileSync(FIXTURE, 'utf8'));
    const second = await put(readFileSync(FIXTURE, 'utf8'));
    const exported = await (
      await broker.fetch('/api/v1/admin/config?format=yaml', {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    const roundTrip = await put(exported);

    expect(first.status).toBe(200);
    const firstBody = await jsonOf(first);
    expect(firstBody.changed).toBe(true);
    expect(firstBody.changes).toContain('create pool "engineering"');
    expect(await jsonOf(second)).toEqual({ dryRun: false, changed: false, changes: [] });
    expect(exported).not.toContain('correct horse');
    expect(parseYaml(exported).users[0].passwordHash).toMatch(/^\$argon2id\$/);
    expect(await jsonOf(roundTrip)).toMatchObject({ changed: false });
  });

  it('answers bad input with 4xx and { error, message }, and changes nothing', async () => {
    const before = await (
      await broker.fetch('/api/v1/admin/config', { headers: { authorization: `Bearer ${token}` } })
    ).json();

    const syntax = await put('pools: [unclosed');
    const wrongType = await put('pools: 7');
    const huge = await put(`# ${'x'.repeat(1_100_000)}`);
    const mistake = await put('policies: [{ name: p, entries: [{ pool: eng }] }]');
    const mixed = await put(
      [
        'authServers: [{ name: nowhere, type: ldap, url: "ldap://x:389", userBase: dc=x, bindPassword: "(kept)" }]',
        'gateways: [{ name: gw, address: "bad!", publicAddress: g, controlUrl: "http://g:9443" }]',
        'policies: [{ name: p, entries: [{ pool: eng }] }]',
      ].join('\n'),
    );

    expect(syntax.status).toBe(400);
    expect((await jsonOf(syntax)).error).toBe('invalid_config_syntax');
    expect(wrongType.status).toBe(400);
    expect(await jsonOf(wrongType)).toMatchObject({
      error: 'invalid_config',
      message: expect.stringMatching(/^pools: /),
    });
    expect(huge.status).toBe(413);
    expect(await jsonOf(huge)).toMatchObject({ error: 'body_too_large' });
    expect(mistake.status).toBe(400);
    expect((await jsonOf(mistake)).problems).toContain(
      'policies[0].entries[0].pool: unknown pool "eng"',
    );
    // Shape, reference and secret problems of one file, all in one answer.
    expect(mixed.status).toBe(400);
    expect((await jsonOf(mixed)).problems).toEqual([
      'authServers[0].bindPassword: no stored bind password to keep',
      'gateways[0].address: must be a host name or IP address',
      'policies[0].entries[0].pool: unknown pool "eng"',
    ]);
    const after = await (
      await broker.fetch('/api/v1/admin/config', { headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(after).toEqual(before);
  });

  it('a dry run lists changes and writes nothing', async () => {
    const dry = await put('roles: [{ name: Auditor }]', '?dryRun=true');
    const body = await jsonOf(dry);

    expect(body.dryRun).toBe(true);
    expect(body.changes).toContain('create role "Auditor"');
    expect((await put(readFileSync(FIXTURE, 'utf8'))).status).toBe(200);
    expect(await jsonOf(await put(readFileSync(FIXTURE, 'utf8')))).toMatchObject({
      changed: false,
    });
  });

  it('an unknown endpoint is a 404 with { error, message }', async () => {
    const res = await broker.fetch('/api/v1/admin/nothing-here', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(404);
    expect(await jsonOf(res)).toEqual({ error: 'not_found', message: 'no such endpoint' });
  });
});

describe('deskbroker apply and export', () => {
  let database: TestDatabase;
  let home: string;
  const env = () => ({ SITE_DB_URL: database.url, DESKBROKER_HOME: home });

  beforeAll(async () => {
    database = await createTestDatabase();
    home = path.join(os.tmpdir(), `deskbroker-cli-${process.pid}`);
  });
  afterAll(() => database?.drop());

  it('applies a file, then reports no changes, and exports what it applied', async () => {
    const first = await runCli(['apply', FIXTURE], env());
    const second = await runCli(['apply', FIXTURE], env());
    const exported = await runCli(['export', '--format', 'json'], env());

    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/site\.yaml: \d+ change\(s\)\n/);
    expect(first.stdout).toContain('  create desktop "eng-01"');
    expect(second.stdout).toBe(`${FIXTURE}: no changes\n`);
    const config = JSON.parse(exported.stdout);
    expect(config.pools.map((p: { name: string }) => p.name)).toEqual([
      'engineering',
      'engineering-dr',
    ]);
    // No secret leaves in an export: "(kept)" stands in for it, and apply keeps the stored one.
    expect(config.authServers[1].bindPassword).toBe('(kept)');
    expect(config.users.find((u: { name: string }) => u.name === 'dave').mfaSecret).toBe('(kept)');
    expect(exported.stdout).not.toContain('JBSWY3DPEHPK3PXP');
  });

  it('prints every problem with its path and exits 1, changing nothing', async () => {
    const file = path.join(os.tmpdir(), `deskbroker-bad-${process.pid}.yaml`);
    writeFileSync(
      file,
      'roles: [{ name: User }]\npolicies: [{ name: p, entries: [{ pool: eng }] }]\nassignments: [{ group: "*", role: Boss, policy: p }]\n',
    );
    const before = (await runCli(['export'], env())).stdout;

    const result = await runCli(['apply', file], env());

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${file}: 2 problem(s), nothing was changed:\n  policies[0].entries[0].pool: unknown pool "eng"\n  assignments[0].role: unknown role "Boss"\n`,
    );
    expect((await runCli(['export'], env())).stdout).toBe(before);
  });

  it('names a missing file and an unknown flag clearly', async () => {
    const missing = await runCli(['apply', '/nonexistent/site.yaml'], env());
    const badFlag = await runCli(['export', '--colour'], env());

    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('deskbroker: cannot read /nonexistent/site.yaml: no such file\n');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/^deskbroker export: Unknown option '--colour'/);
  });

  it('works through a running broker with --url, and refuses to open its embedded database twice', async () => {
    const broker = await startTestBroker({ local: { demo: false } });
    try {
      const viaUrl = await runCli(['apply', FIXTURE, '--url', broker.url], {
        DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      });
      const locked = await runCli(['export'], {
        SITE_DB_URL: `pglite://${broker.home}/site`,
        DESKBROKER_HOME: broker.home,
      });

      expect(viaUrl.code, viaUrl.stderr).toBe(0);
      expect(viaUrl.stdout).toContain('create pool "engineering"');
      expect(locked.code).toBe(1);
      expect(locked.stderr).toMatch(/is in use by another deskbroker process \(pid \d+\)/);
    } finally {
      await broker.stop();
    }
  });
});
