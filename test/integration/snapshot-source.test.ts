/**
 * The cached configuration on the login path (CachedSnapshotSource), on PGlite: an aged copy
 * answers at once while a fresh one loads in the background; an apply's copy is never
 * answered stale; leased mode's view never asks the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argon2PasswordHasher } from '../../functions/adapters/auth/password-hasher.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { SqlSiteConfigStore } from '../../functions/adapters/site-db/site-config-store.ts';
import { CachedSnapshotSource } from '../../functions/adapters/site-db/snapshot-source.ts';
import { applySiteConfig } from '../../functions/core/site-config/apply.ts';
import { frozenClock } from '../helpers/clock.ts';
import { testSecretBox } from '../helpers/secrets.ts';
import { openTestSiteDatabase, type TestSiteDatabase } from '../helpers/site-databases.ts';

const TTL = 5_000;
const site = (retention: number) => ({
  authServers: [{ name: 'local', type: 'local' }],
  settings: { logRetentionDays: retention },
});

describe('the cached site configuration', () => {
  let t: TestSiteDatabase;
  const clock = frozenClock();
  const { box } = testSecretBox();
  const apply = (retention: number) =>
    applySiteConfig(
      {
        store: new SqlSiteConfigStore(t.site.db),
        hasher: new Argon2PasswordHasher(),
        secrets: box,
        snapshot: { invalidate() {} },
      },
      site(retention),
    );
  const retention = async (source: CachedSnapshotSource) =>
    (await source.get()).config.settings.logRetentionDays;
  const roundTrips = async (fn: () => Promise<unknown>) => {
    const before = t.site.stats.roundTrips;
    await fn();
    return t.site.stats.roundTrips - before;
  };

  beforeAll(async () => {
    t = await openTestSiteDatabase('pglite');
    await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
    await apply(30);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('answers an aged copy at once and serves the fresh one from the next request', async () => {
    const source = new CachedSnapshotSource(t.site.db, clock, TTL);
    expect(await retention(source)).toBe(30);
    await apply(31);
    expect(await retention(source)).toBe(30); // within the TTL: the cached copy
    clock.advance(TTL + 1);
    // Aged: the same copy answers without waiting for the database...
    expect(await roundTrips(async () => expect(await retention(source)).toBe(30))).toBe(0);
    // ...while the reload runs; once it is in, the fresh copy answers.
    await expect.poll(() => retention(source)).toBe(31);
  });

  it('reloads first, and waits, when the copy is older than twice the lifetime (an idle broker)', async () => {
    const source = new CachedSnapshotSource(t.site.db, clock, TTL);
    const before = await retention(source);
    await apply(before + 1);
    clock.advance(2 * TTL + 1);
    expect(await retention(source)).toBe(before + 1);
  });

  it('never answers a copy an apply invalidated', async () => {
    const source = new CachedSnapshotSource(t.site.db, clock, TTL);
    const before = await retention(source);
    await apply(before + 1);
    source.invalidate();
    expect(await retention(source)).toBe(before + 1);
  });

  it('gives leased mode a view that never asks the database', async () => {
    const source = new CachedSnapshotSource(t.site.db, clock, TTL);
    const leased = source.withoutDatabase();
    await expect(leased.get()).rejects.toThrow(/not reachable/); // nothing loaded, no mirror
    const known = await retention(source);
    clock.advance(TTL + 1);
    expect(
      await roundTrips(async () =>
        expect((await leased.get()).config.settings.logRetentionDays).toBe(known),
      ),
    ).toBe(0);
  });
});
