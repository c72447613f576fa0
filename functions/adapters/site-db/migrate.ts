/**
 * Schema versions. The broker's schema version is the name of its newest migration; a broker
 * runs only on a database that has applied exactly its migrations (all brokers of a cluster
 * must match). The whole list is compared, not only the newest name, so a migration that sorts
 * before one already applied (two branches that each added one) is applied, not skipped.
 */
import { sql } from 'kysely';
import { AppError } from '../../core/errors.ts';
import type { SiteDb } from './connect.ts';

/**
 * Every migration's name, in order: the schema check needs only these. The migrations
 * themselves (./migration-list.ts, with Kysely's Migrator) load when a database is migrated,
 * so the Lambdas that only check the version do not carry them.
 */
export const MIGRATION_NAMES: readonly string[] = [
  '0001',
  '0002-gateway-check',
  '0003-admin-console',
  '0004-registered-gateways',
  '0005-html5',
  '0006-desktop-ports',
];

/** The schema version this broker is built for. */
export const SCHEMA_VERSION = MIGRATION_NAMES.at(-1)!;

/** Thrown when the database's schema is not this broker's. The message says both versions. */
export class SchemaVersionError extends AppError {
  readonly databaseVersion: string;
  constructor(databaseVersion: string, hint: string) {
    super(
      503,
      'schema_version_mismatch',
      `the site database has schema version ${databaseVersion}, this broker has ${SCHEMA_VERSION}: ${hint}`,
    );
    this.name = 'SchemaVersionError';
    this.databaseVersion = databaseVersion;
  }
}

/** An error that says the migrations table does not exist (SQLSTATE 42P01): an empty database. */
function isMissingMigrationTable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (
    err?.code === '42P01' ||
    /relation "schema_migration" does not exist|SQLState: 42P01/.test(String(err?.message ?? ''))
  );
}

/**
 * The migrations the database has applied, in name order (empty for an empty database). One
 * statement, as every cold start runs it: an empty database answers with an error instead.
 */
async function appliedMigrations(db: SiteDb): Promise<string[]> {
  try {
    const rows = await sql<{
      name: string;
    }>`select name from schema_migration order by name`.execute(db);
    return rows.rows.map((r) => r.name);
  } catch (e: unknown) {
    if (isMissingMigrationTable(e)) return [];
    throw e;
  }
}

/** How the database's migrations compare with this broker's. */
async function schemaState(db: SiteDb) {
  const applied = await appliedMigrations(db);
  const known = new Set(MIGRATION_NAMES);
  return {
    version: applied.at(-1) ?? 'none',
    /** Migrations of a newer broker. */
    unknown: applied.filter((name) => !known.has(name)),
    /** This broker's migrations the database has not applied. */
    missing: [...known].filter((name) => !applied.includes(name)),
  };
}

/** The database's schema version: its newest applied migration, or `none` for an empty database. */
export async function databaseSchemaVersion(db: SiteDb): Promise<string> {
  return (await schemaState(db)).version;
}

/**
 * Brings the schema up to this broker's version. Refuses a database newer than the broker.
 * @throws {SchemaVersionError} when the database is ahead of this broker.
 */
export async function migrateToLatest(db: SiteDb): Promise<{ from: string; to: string }> {
  const { version: from, unknown } = await schemaState(db);
  if (unknown.length > 0) {
    throw new SchemaVersionError(from, 'upgrade this broker before using this database');
  }
  const { migrator } = await import('./migration-list.ts');
  const { error } = await migrator(db, MIGRATION_NAMES).migrateToLatest();
  if (error) throw error;
  return { from, to: SCHEMA_VERSION };
}

/**
 * Refuses to run on a database whose schema version is not this broker's.
 * An empty database is created when `createIfEmpty`; an older one is upgraded when
 * `upgrade` (the embedded database, `deskbroker db migrate`, the deploy-time migration).
 * @throws {SchemaVersionError} naming both versions.
 */
export async function ensureSchema(
  db: SiteDb,
  options: { createIfEmpty: boolean; upgrade: boolean },
): Promise<{ version: string; created: boolean; upgraded: boolean }> {
  const { version, unknown, missing } = await schemaState(db);
  if (unknown.length === 0 && missing.length === 0)
    return { version, created: false, upgraded: false };
  if (version === 'none') {
    if (!options.createIfEmpty) {
      throw new SchemaVersionError(
        'none',
        'the database holds no site; create it with `deskbroker db migrate`',
      );
    }
    await migrateToLatest(db);
    return { version: SCHEMA_VERSION, created: true, upgraded: false };
  }
  if (unknown.length > 0) {
    throw new SchemaVersionError(
      version,
      'run a broker of the same version (all brokers on one database must match)',
    );
  }
  if (!options.upgrade) {
    throw new SchemaVersionError(
      version,
      'upgrade the database with `deskbroker db migrate` (stop the older brokers first)',
    );
  }
  await migrateToLatest(db);
  return { version: SCHEMA_VERSION, created: false, upgraded: true };
}
