/**
 * Stored secrets on a local broker, end to end: the key file made on first start (mode 0600),
 * LDAP bind passwords and TOTP secrets sealed in the site database and in the leased-mode copy
 * in the state table, opened only to bind and to check a code, an export that holds none of
 * them, an old site's clear values sealed at start, and a key rotation with re-encryption.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.ts';
import { totpCode } from '../../functions/core/login/mfa.ts';
import { type LocalBroker, startLocalBroker } from '../../functions/local/runtime.ts';
import { startTestBroker, TEST_ADMIN_PASSWORD, type TestBroker } from '../helpers/broker.ts';
import { runCli } from '../helpers/cli.ts';
import { request } from '../helpers/http.ts';
import { type KmsServer, startKmsServer } from '../helpers/kms-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import {
  LDAP_READER_PASSWORD,
  LDAP_USERS,
  type SlapdInstance,
  startSlapd,
  testLdapServerConfig,
} from '../helpers/slapd.ts';

const TOTP = 'KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF';

describe('stored secrets', () => {
  let database: TestDatabase;
  let slapd: SlapdInstance;
  let local: LocalBroker;
  const home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-secrets-'));
  const env = () => ({
    DESKBROKER_HOME: home,
    SITE_DB_URL: database.url,
    DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
  });
  const start = () =>
    startLocalBroker(
      loadConfig({ ...env(), PORT: '0', LOG_LEVEL: 'SILENT', CONFIG_CACHE_SECONDS: '0' }),
      { demo: false },
    );
  const admin = async () => {
    const res = await request(`${local.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'admin', password: TEST_ADMIN_PASSWORD },
    });
    return res.body.token as string;
  };
  const site = () => ({
    authServers: [
      { name: 'local', type: 'local' },
      testLdapServerConfig(slapd.url, { name: 'corp' }),
    ],
    users: [{ name: 'dave', password: 'dave-password', groups: ['Secure'], mfaSecret: TOTP }],
    roles: [{ name: 'User' }],
    pools: [{ name: 'desks', desktops: [{ name: 'desk-1', address: '10.0.0.1' }] }],
    policies: [{ name: 'std', entries: [{ pool: 'desks' }] }],
    assignments: [
      { group: 'Secure', mfa: 'totp', role: 'User', policy: 'std' },
      { group: '*', role: 'User', policy: 'std' },
    ],
  });
  /** Everything the state table holds, as text. */
  const stateText = async () => {
    const { state } = local.broker;
    const out = await state.doc.send(new ScanCommand({ TableName: state.tableName }));
    return JSON.stringify(out.Items);
  };
  /** The stored values, as the site database holds them. */
  const storedText = async () => {
    const { rows } = await sql<{ text: string }>`select
      (select string_agg(settings::text, ' ') from auth_server) || ' ' ||
      (select string_agg(coalesce(mfa_secret, ''), ' ') from user_account) as text`.execute(
      local.broker.site.db,
    );
    return rows[0]!.text;
  };
  const signIns = async () => {
    const ldap = await request(`${local.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'alice', password: LDAP_USERS.alice.password, authServer: 'corp' },
    });
    const mfa = await request(`${local.url}/api/v1/login`, {
      method: 'POST',
      body: {
        username: 'dave',
        password: 'dave-password',
        mfaCode: await totpCode(TOTP, Date.now()),
      },
      from: '127.0.0.9',
    });
    return [ldap.status, mfa.status];
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    slapd = await startSlapd();
    local = await start();
    const res = await request(`${local.url}/api/v1/admin/config`, {
      method: 'PUT',
      token: await admin(),
      body: site(),
    });
    expect(res.status, res.text).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await local?.stop();
    await slapd?.stop();
    await database?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('makes the key file on first start, readable by its owner only', () => {
    const file = path.join(home, 'secrets.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).current).toMatch(/^local-\d{8}-[0-9a-f]{6}$/);
  });

  it('keeps them sealed in the site database and in the leased-mode copy', async () => {
    await local.broker.leasing.afterApply(
      await local.broker.siteConfig.read(),
      await local.broker.siteConfig.read(),
    );
    const stored = await storedText();
    const state = await stateText();

    for (const text of [stored, state]) {
      expect(text).not.toContain(LDAP_READER_PASSWORD);
      expect(text).not.toContain(TOTP);
      expect(text).toContain('enc1.');
    }
  });

  it('opens them only to bind and to check a code: LDAP and MFA sign-ins work', async () => {
    expect(await signIns()).toEqual([200, 200]);
  });

  it('exports "(kept)" in their place, and the export applies back unchanged', async () => {
    const token = await admin();
    const exported = await request(`${local.url}/api/v1/admin/config?format=yaml`, { token });
    const applied = await request(`${local.url}/api/v1/admin/config`, {
      method: 'PUT',
      token,
      body: exported.text,
      headers: { 'content-type': 'application/yaml' },
    });

    expect(exported.text).not.toContain(LDAP_READER_PASSWORD);
    expect(exported.text).not.toContain(TOTP);
    expect(exported.text).not.toContain('enc1.');
    expect(exported.text).toContain('bindPassword: (kept)');
    expect(exported.text).toContain('mfaSecret: (kept)');
    expect(applied.body).toMatchObject({ changed: false });
    expect(await signIns()).toEqual([200, 200]);
  });

  it('seals at start what an older site stored in clear, and writes the leased-mode copy again', async () => {
    // As an older version left it: clear in the site database and in the leased-mode copy.
    const copy = (await local.broker.leasing.mirror.loadSite())!;
    await local.broker.leasing.mirror.saveSite({
      ...copy,
      authServers: copy.authServers.map((s) =>
        s.type === 'ldap' ? { ...s, bindPassword: LDAP_READER_PASSWORD } : s,
      ),
    });
    expect(await stateText()).toContain(LDAP_READER_PASSWORD);
    await local.stop();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(
      `update auth_server set settings = jsonb_set(settings, '{bindPassword}', to_jsonb($1::text)) where name = 'corp'`,
      [LDAP_READER_PASSWORD],
    );
    await client.end();
    local = await start();

    expect(await storedText()).not.toContain(LDAP_READER_PASSWORD);
    expect(await stateText()).not.toContain(LDAP_READER_PASSWORD);
    expect(await signIns()).toEqual([200, 200]);
  });

  it('rotates the key: a new current key, every secret re-encrypted under it, the old key kept', async () => {
    const before = JSON.parse(readFileSync(path.join(home, 'secrets.key'), 'utf8'));
    const rotated = await runCli(['secrets', 'rotate', '--url', local.url], env());
    const after = JSON.parse(readFileSync(path.join(home, 'secrets.key'), 'utf8'));
    const status = await request(`${local.url}/api/v1/admin/secrets`, { token: await admin() });

    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('re-encrypted 2 stored secret(s)');
    expect(after.current).not.toBe(before.current);
    expect(Object.keys(after.keys)).toEqual(expect.arrayContaining(Object.keys(before.keys)));
    expect(status.body).toEqual({ byKey: { [after.current]: 2 } });
    expect(await signIns()).toEqual([200, 200]);
    expect(await stateText()).not.toContain(Buffer.from(before.current).toString('base64url'));
  });
});

describe('stored secrets under a KMS key (SECRETS_KEY_ARN)', () => {
  let kms: KmsServer;
  let slapd: SlapdInstance;
  let broker: TestBroker;

  beforeAll(async () => {
    kms = await startKmsServer();
    slapd = await startSlapd();
    const keyArn = kms.createKey();
    broker = await startTestBroker({
      env: { SECRETS_KEY_ARN: keyArn, KMS_ENDPOINT: kms.endpoint },
      local: { demo: false },
    });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    await slapd?.stop();
    await kms?.close();
  });

  it('seals with KMS data keys, makes no key file, and opens them to bind', async () => {
    const token = await broker.adminToken();
    const applied = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token,
      body: {
        authServers: [testLdapServerConfig(slapd.url, { name: 'corp' })],
        roles: [{ name: 'User' }],
        pools: [{ name: 'desks', desktops: [{ name: 'desk-1', address: '10.0.0.1' }] }],
        policies: [{ name: 'std', entries: [{ pool: 'desks' }] }],
        assignments: [{ group: '*', role: 'User', policy: 'std' }],
      },
    });
    const status = await request(`${broker.url}/api/v1/admin/secrets`, { token });
    const ldap = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'alice', password: LDAP_USERS.alice.password },
    });

    expect(applied.status, applied.text).toBe(200);
    expect(Object.keys(status.body.byKey)).toEqual([expect.stringMatching(/^arn:aws:kms:/)]);
    expect(existsSync(path.join(broker.home, 'secrets.key'))).toBe(false);
    expect(ldap.status, ldap.text).toBe(200);
    expect(kms.calls.GenerateDataKey).toBeGreaterThan(0);
  });
});
