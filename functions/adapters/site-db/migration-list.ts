/**
 * The migrations themselves and Kysely's Migrator over them, loaded only to migrate
 * (migrate.ts keeps their names, which the schema check needs).
 */
import type { Kysely } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import type { SiteDb } from './connect.ts';
import * as initial from './migrations/0001-initial.ts';
import * as gatewayCheck from './migrations/0002-gateway-check.ts';
import * as adminConsole from './migrations/0003-admin-console.ts';
import * as registeredGateways from './migrations/0004-registered-gateways.ts';
import * as html5 from './migrations/0005-html5.ts';
import * as desktopPorts from './migrations/0006-desktop-ports.ts';

/** Every migration, in order. Listed here (not read from disk) so bundles carry them. */
const MIGRATIONS: Record<string, Migration> = {
  '0001': initial,
  '0002-gateway-check': gatewayCheck,
  '0003-admin-console': adminConsole,
  '0004-registered-gateways': registeredGateways,
  '0005-html5': html5,
  '0006-desktop-ports': desktopPorts,
};

/**
 * The Migrator of the site database.
 * @param names migrate.ts's list of names, which must be this list's.
 * @throws {Error} when the two lists differ (a migration added to one list only).
 */
export function migrator(db: SiteDb, names: readonly string[]): Migrator {
  if (Object.keys(MIGRATIONS).join() !== names.join()) {
    throw new Error(
      `migrate.ts names ${names.join(', ')} but migration-list.ts has ${Object.keys(MIGRATIONS).join(', ')}`,
    );
  }
  return new Migrator({
    db: db as unknown as Kysely<unknown>,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: 'schema_migration',
    migrationLockTableName: 'schema_migration_lock',
    // A migration missing from the middle of the list is applied (migrate.ts).
    allowUnorderedMigrations: true,
  });
}
