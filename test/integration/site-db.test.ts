/**
 * The site database layer, one suite run on each dialect: PGlite, PostgreSQL (pg) and the
 * RDS Data API.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argon2PasswordHasher } from '../../functions/adapters/auth/password-hasher.ts';
import { SqlAccountStore } from '../../functions/adapters/site-db/account-store.ts';
import { SqlForwardStore } from '../../functions/adapters/site-db/forward-store.ts';
import {
  databaseSchemaVersion,
  ensureSchema,
  SCHEMA_VERSION,
  SchemaVersionError,
} from '../../functions/adapters/site-db/migrate.ts';
import { SqlStoredSecrets } from '../../functions/adapters/site-db/secret-store.ts';
import { SqlSiteConfigStore } from '../../functions/adapters/site-db/site-config-store.ts';
import { resealSecrets, secretsByKey } from '../../functions/core/secrets/reseal.ts';
import {
  applySiteConfig,
  decodeConfigText,
  exportSiteConfig,
} from '../../functions/core/site-config/apply.ts';
import { KEPT_SECRET } from '../../functions/core/site-config/schema.ts';
import { InvalidConfigError } from '../../functions/core/site-config/validate.ts';
import { testSecretBox } from '../helpers/secrets.ts';
import {
  DIALECTS,
  openTestSiteDatabase,
  type TestSiteDatabase,
} from '../helpers/site-databases.ts';

const example = decodeConfigText(
  readFileSync(new URL('../fixtures/site.yaml', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const hasher = new Argon2PasswordHasher();
const { box } = testSecretBox();

describe.each(DIALECTS)('site database on %s', (dialect) => {
  let t: TestSiteDatabase;
  let store: SqlSiteConfigStore;
  const apply = (document: unknown, dryRun = false) =>
    applySiteConfig({ store, hasher, secrets: box, snapshot: { invalidate() {} } }, document, {
      dryRun,
    });

  beforeAll(async () => {
    t = await openTestSiteDatabase(dialect);
    store = new SqlSiteConfigStore(t.site.db);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('refuses an empty database unless asked to create it, then creates the schema', async () => {
    await expect(ensureSchema(t.site.db, { createIfEmpty: false, upgrade: false })).rejects.toThrow(
      new RegExp(`schema version none, this broker has ${SCHEMA_VERSION}`),
    );

    const created = await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
    const again = await ensureSchema(t.site.db, { createIfEmpty: false, upgrade: false });

    expect(created).toEqual({ version: SCHEMA_VERSION, created: true, upgraded: false });
    expect(again.created).toBe(false);
    expect(await databaseSchemaVersion(t.site.db)).toBe(SCHEMA_VERSION);
  });

  it('applies a whole site, then finds nothing to change on the second apply', async () => {
    const first = await apply(example);
    const second = await apply(example);

    expect(first.changes.length).toBeGreaterThan(15);
    expect(second.changes).toEqual([]);
  });

  it('exports what was applied: hashes instead of passwords, "(kept)" for secrets, defaults filled', async () => {
    const exported = await exportSiteConfig(store);
    const text = JSON.stringify(exported);

    expect(exported.users.map((u) => u.name)).toEqual(['alice', 'dave']);
    expect(exported.users[0]).not.toHaveProperty('password');
    expect(exported.users[0]!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await hasher.verify(exported.users[0]!.passwordHash!, 'correct horse')).toBe(true);
    expect(exported.users[1]).toMatchObject({ authServer: 'local', mfaSecret: KEPT_SECRET });
    expect(exported.authServers[1]).toMatchObject({ bindPassword: KEPT_SECRET });
    // Neither the secrets nor their sealed texts leave in an export.
    expect(text).not.toContain('JBSWY3DPEHPK3PXP');
    expect(text).not.toContain('"secret"');
    expect(text).not.toContain('enc1.');
    expect(exported.pools[0]!.desktops[0]!.agentKeyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(exported.pools[0]!.desktops[0]).not.toHaveProperty('ports');
    expect(exported.pools[0]!.desktops[1]!.ports).toEqual({ vnc: 5902, rdp: 3390 });
    expect(exported.gatewayClusters[0]!.members).toEqual(['gw1', 'gw2']);
    expect(exported.gateways[1]!.portRange).toEqual([20001, 23000]);
    expect(exported.policies[0]!.entries[1]).toEqual({
      pool: 'engineering-dr',
      offer: 2,
      release: 'on_disconnect',
      releaseDelaySeconds: 600,
    });
    expect(exported.assignments.map((a) => a.group)).toEqual(['Engineers', 'Designers', '*']);
    expect(exported.settings.logRetentionDays).toBe(45);
    expect(exported.settings.leasing).toEqual({ enabled: true, days: 14 });
  });

  it('round-trips: the export applied back changes nothing and keeps the stored secrets', async () => {
    const stored = await store.read();
    const exported = await exportSiteConfig(store);

    expect((await apply(exported)).changes).toEqual([]);
    expect(await store.read()).toEqual(stored);
    expect(await exportSiteConfig(store)).toEqual(exported);
  });

  it('stores bind passwords and TOTP secrets sealed, and opens them to what was applied', async () => {
    const stored = await store.read();
    const ldap = stored.authServers.find((s) => s.name === 'corp');
    const dave = stored.users.find((u) => u.name === 'dave')!;
    const raw = await sql<{ text: string }>`select
        (select settings::text from auth_server where name = 'corp') ||
        (select mfa_secret from user_account where name = 'dave') as text`.execute(t.site.db);

    expect(raw.rows[0]!.text).not.toContain('JBSWY3DPEHPK3PXP');
    expect(raw.rows[0]!.text).not.toMatch(/"bindPassword": ?"secret"/);
    expect(ldap?.type === 'ldap' && box.isSealed(ldap.bindPassword!)).toBe(true);
    expect(box.isSealed(dave.mfaSecret!)).toBe(true);
    expect(ldap?.type === 'ldap' && (await box.open(ldap.bindPassword!))).toBe('secret');
    expect(await box.open(dave.mfaSecret!)).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
  });

  it('replaces a secret given anew, and refuses "(kept)" where nothing is stored', async () => {
    const before = await store.read();
    const changed = {
      ...example,
      authServers: [
        { name: 'local', type: 'local' },
        { ...(example.authServers as object[])[1], bindPassword: 'new-secret' },
      ],
    };
    const kept = {
      ...example,
      users: [{ name: 'erin', password: 'erin password', mfaSecret: KEPT_SECRET }],
    };

    expect((await apply(changed)).changes).toEqual([
      { kind: 'authServers', action: 'update', name: 'corp' },
    ]);
    const corp = (await store.read()).authServers[1]!;
    expect(corp.type === 'ldap' && (await box.open(corp.bindPassword!))).toBe('new-secret');
    await expect(apply(kept)).rejects.toThrow(
      /users\[0\]\.mfaSecret: no stored TOTP secret to keep/,
    );
    await apply(example);
    expect((await store.read()).users).toEqual(before.users);
  });

  it('soft-deletes entries missing from the file, and keeps their rows for the purge', async () => {
    const withoutDr = {
      ...example,
      pools: (example.pools as { name: string }[]).filter((p) => p.name !== 'engineering-dr'),
      policies: [{ name: 'engineering', entries: [{ pool: 'engineering' }] }],
    };

    const result = await apply(withoutDr);
    const rows = await t.site.db
      .selectFrom('pool')
      .select(['name', 'deletedAt'])
      .where('name', '=', 'engineering-dr')
      .execute();
    const desktop = await t.site.db
      .selectFrom('desktop')
      .select('deletedAt')
      .where('name', '=', 'dr-01')
      .executeTakeFirst();

    expect(result.changes).toContainEqual({
      kind: 'pools',
      action: 'delete',
      name: 'engineering-dr',
    });
    expect(result.changes).toContainEqual({ kind: 'desktops', action: 'delete', name: 'dr-01' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deletedAt).toBeInstanceOf(Date);
    expect(desktop!.deletedAt).toBeInstanceOf(Date);
    expect((await store.read()).pools.map((p) => p.name)).toEqual(['engineering']);

    await apply(example);
    expect((await store.read()).pools.map((p) => p.name)).toEqual([
      'engineering',
      'engineering-dr',
    ]);
  });

  it('rejects five different mistakes, each with its path, and leaves the site unchanged', async () => {
    const before = await store.read();
    const mistakes: [Record<string, unknown>, string][] = [
      [
        { policies: [{ name: 'engineering', entries: [{ pool: 'eng' }] }] },
        'policies[0].entries[0].pool: unknown pool "eng"',
      ],
      [
        { assignments: [{ group: '*', role: 'Root', policy: 'engineering' }] },
        'assignments[0].role: unknown role "Root"',
      ],
      [
        { gatewayClusters: [{ name: 'east', mode: 'all', members: ['gw1'] }] },
        'gatewayClusters[0].loadBalancerAddress: mode "all" needs the load balancer address clients connect to',
      ],
      [
        { users: [{ name: 'eve', password: 'long enough', authServer: 'corp' }] },
        'users[0].authServer: "corp" is not a local authentication server',
      ],
      [
        {
          locations: [
            { name: 'lab', rules: [{ attribute: 'header', op: 'contains', value: 'x' }] },
          ],
        },
        'locations[0].rules[0].header: give header exactly when attribute is header',
      ],
    ];

    for (const [patch, expected] of mistakes) {
      const error = await apply({ ...example, ...patch }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect(
        (error as InvalidConfigError).problems.map((p) => `${p.path}: ${p.message}`),
      ).toContain(expected);
    }
    expect(await store.read()).toEqual(before);
  });

  it('writes all or nothing: a failure halfway rolls back what came before', async () => {
    const before = await store.read();
    const desired = { ...before, roles: [...before.roles, { name: 'Auditor', admin: false }] };

    const attempt = store.apply(
      desired,
      () => [
        { kind: 'roles', action: 'create', name: 'Auditor' },
        { kind: 'pools', action: 'update', name: 'no-such-pool' },
      ],
      { dryRun: false },
    );

    await expect(attempt).rejects.toThrow(/no entry named "no-such-pool"/);
    expect(await store.read()).toEqual(before);
  });

  it('dry run reports the changes and writes nothing', async () => {
    const before = await store.read();
    const result = await apply(
      { ...example, roles: [...(example.roles as object[]), { name: 'Auditor' }] },
      true,
    );

    expect(result.changes).toEqual([{ kind: 'roles', action: 'create', name: 'Auditor' }]);
    expect(await store.read()).toEqual(before);
  });

  it('keeps one built-in admin, found by any letter case', async () => {
    const accounts = new SqlAccountStore(t.site.db);
    const hash = await hasher.hash('first password');

    expect(await accounts.ensureBuiltinAdmin(hash)).toBe(true);
    expect(await accounts.ensureBuiltinAdmin(await hasher.hash('second password'))).toBe(false);
    const admin = await accounts.findLocalAccount('ADMIN', null);
    expect(admin).toMatchObject({
      name: 'admin',
      builtin: true,
      authServer: null,
      passwordHash: hash,
    });
    expect(await accounts.findLocalAccount('Alice', 'local')).toMatchObject({
      name: 'alice',
      groups: ['Engineers'],
    });
    expect(await accounts.findLocalAccount('alice', 'corp')).toBeUndefined();
  });

  it('apply never removes the built-in admin', async () => {
    await apply({ authServers: [{ name: 'local', type: 'local' }] });

    expect(await new SqlAccountStore(t.site.db).findBuiltinAdmin()).toBeDefined();
    await apply(example);
  });

  it('refuses a database whose schema is newer than this broker, naming both versions', async () => {
    await sql`insert into schema_migration (name, timestamp) values ('9999', '2030-01-01T00:00:00Z')`.execute(
      t.site.db,
    );
    try {
      const error = await ensureSchema(t.site.db, { createIfEmpty: false, upgrade: true }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SchemaVersionError);
      expect((error as Error).message).toBe(
        `the site database has schema version 9999, this broker has ${SCHEMA_VERSION}: run a broker of the same version (all brokers on one database must match)`,
      );
    } finally {
      await sql`delete from schema_migration where name = '9999'`.execute(t.site.db);
    }
  });

  it('seals the clear secrets a site stored before encryption, and re-encrypts them all', async () => {
    const stored = new SqlStoredSecrets(t.site.db);
    await sql`update auth_server set settings = jsonb_set(settings, '{bindPassword}', '"old-clear"')
      where name = 'corp' and deleted_at is null`.execute(t.site.db);
    await sql`update user_account set mfa_secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
      where name = 'dave' and deleted_at is null`.execute(t.site.db);
    let changes = 0;
    const deps = { box, stored, afterChange: async () => void changes++ };

    expect(await secretsByKey(deps)).toMatchObject({ clear: 2 });
    const first = await resealSecrets(deps, 'clear');
    const second = await resealSecrets(deps, 'clear');
    const sealedOnce = (await stored.list()).map((s) => s.value);
    const all = await resealSecrets(deps, 'all');
    const sealedTwice = (await stored.list()).map((s) => s.value);

    expect(first.resealed).toBe(2);
    expect(second.resealed).toBe(0);
    expect(all).toEqual({ resealed: first.total, total: first.total });
    expect(changes).toBe(2);
    expect(Object.keys(await secretsByKey(deps))).not.toContain('clear');
    for (const [i, value] of sealedTwice.entries()) {
      expect(value).not.toBe(sealedOnce[i]);
      expect(await box.open(value)).toBe(await box.open(sealedOnce[i]!));
    }
    const corp = (await store.read()).authServers[1]!;
    expect(corp.type === 'ldap' && (await box.open(corp.bindPassword!))).toBe('old-clear');
    await apply(example);
  });

  it('counts round trips: a read is one, a transaction adds its BEGIN and COMMIT', async () => {
    const start = t.site.stats.roundTrips;
    await t.site.db.selectFrom('role').select('name').execute();
    const afterRead = t.site.stats.roundTrips;
    await t.site.db.transaction().execute((tx) => tx.selectFrom('role').select('name').execute());

    expect(afterRead - start).toBe(1);
    expect(t.site.stats.roundTrips - afterRead).toBe(3);
  });

  it('keeps forwards of registered gateways by name, and replaces those of gateways gone in one statement', async () => {
    await apply({
      ...example,
      gatewayClusters: [
        ...(example.gatewayClusters as unknown[]),
        { name: 'auto', mode: 'fewest', tag: 'default' },
      ],
    });
    const forwards = new SqlForwardStore(t.site.db);
    const desktop = await t.site.db.selectFrom('desktop').select('id').executeTakeFirstOrThrow();
    const forward = (gateway: string, key: string, listenPort: number) => ({
      gatewayId: null,
      gateway,
      desktopId: desktop.id,
      user: 'Reg',
      clientIp: '192.0.2.7',
      listenPort,
      desktopHost: '10.0.2.11',
      desktopPort: 3389,
      key,
      expiresAt: Date.now() + 3_600_000,
    });
    await forwards.record([forward('gw-gone', 'k1', 20001)]);
    await forwards.record([forward('gw-live', 'k2', 20001)]);
    const before = t.site.stats.roundTrips;

    await forwards.record([forward('gw-new', 'k3', 20002)], {
      user: 'reg',
      desktopId: desktop.id,
      live: ['GW-LIVE', 'gw-new'],
    });

    expect(t.site.stats.roundTrips - before).toBe(1);
    expect((await forwards.liveForGateway('gw-gone', Date.now())).map((f) => f.key)).toEqual([]);
    expect((await forwards.liveForGateway('GW-LIVE', Date.now())).map((f) => f.key)).toEqual([
      'k2',
    ]);
    const closed = await forwards.closeForUser('reg');
    expect(closed.map((f) => [f.gateway, f.key, f.gatewayId]).sort()).toEqual([
      ['gw-live', 'k2', null],
      ['gw-new', 'k3', null],
    ]);
    const exported = await store.read();
    expect(exported.gatewayClusters.find((c) => c.name === 'auto')).toEqual({
      name: 'auto',
      mode: 'fewest',
      members: [],
      tag: 'default',
    });
    await apply(example);
  });
});

describe('schema 0006 (desktop ports)', () => {
  it('upgrades a 0001 site in place: existing desktops keep their plan ports ({})', async () => {
    const t = await openTestSiteDatabase('postgres');
    try {
      const { Migrator } = await import('kysely/migration');
      const initial = await import('../../functions/adapters/site-db/migrations/0001-initial.ts');
      const at0001 = new Migrator({
        db: t.site.db as never,
        provider: { getMigrations: async () => ({ '0001': initial }) },
        migrationTableName: 'schema_migration',
        migrationLockTableName: 'schema_migration_lock',
      });
      expect((await at0001.migrateToLatest()).error).toBeUndefined();
      await sql`insert into pool (name) values ('p')`.execute(t.site.db);
      await sql`insert into desktop (name, pool_id, address) values ('d', 1, '10.0.0.1')`.execute(
        t.site.db,
      );

      const upgraded = await ensureSchema(t.site.db, { createIfEmpty: false, upgrade: true });

      expect(upgraded).toEqual({ version: SCHEMA_VERSION, created: false, upgraded: true });
      expect(await t.site.db.selectFrom('desktop').select(['name', 'ports']).execute()).toEqual([
        { name: 'd', ports: {} },
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('schema versions from parallel branches', () => {
  it('applies a migration that sorts before the newest applied one, instead of skipping it', async () => {
    const t = await openTestSiteDatabase('postgres');
    try {
      await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
      // A database that applied everything but 0003 (a branch that landed after 0004 and 0006).
      for (const undo of [
        'ALTER TABLE gateway DROP COLUMN status_since',
        'DROP INDEX log_at_id',
        'CREATE INDEX log_at ON log (at)',
        'DROP INDEX log_user_at',
        'DROP INDEX log_event_at',
        'DROP INDEX log_desktop',
        'DROP INDEX client_last_seen',
        'DROP INDEX client_ip',
        "DELETE FROM schema_migration WHERE name = '0003-admin-console'",
      ])
        await sql.raw(undo).execute(t.site.db);
      await expect(
        ensureSchema(t.site.db, { createIfEmpty: false, upgrade: false }),
      ).rejects.toThrow(SchemaVersionError);

      const upgraded = await ensureSchema(t.site.db, { createIfEmpty: false, upgrade: true });

      expect(upgraded.upgraded).toBe(true);
      const names = await sql<{
        name: string;
      }>`select name from schema_migration order by name`.execute(t.site.db);
      expect(names.rows.map((r) => r.name)).toContain('0003-admin-console');
      const column = await sql<{
        n: number;
      }>`select count(*)::int as n from information_schema.columns
        where table_name = 'gateway' and column_name = 'status_since'`.execute(t.site.db);
      expect(column.rows[0]!.n).toBe(1);
    } finally {
      await t.close();
    }
  });
});
