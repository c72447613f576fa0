/**
 * The probes behind the health queries: the site database, the authentication servers,
 * the load average.
 */
import os from 'node:os';
import { sql } from 'kysely';
import type { HealthProbes } from '../core/health.ts';
import type { DirectoryAuthenticator } from '../core/login/ports.ts';
import type { AuthServerConfig } from '../core/site-config/schema.ts';
import type { SiteDb } from './site-db/connect.ts';

export function createHealthProbes(
  db: SiteDb,
  directory: DirectoryAuthenticator,
  loadAverage: () => number = () => os.loadavg()[0]!,
): HealthProbes {
  return {
    async pingDatabase() {
      await sql`select 1`.execute(db);
    },
    async enabledAuthServers() {
      const rows = await db
        .selectFrom('authServer')
        .select(['name', 'type', 'enabled', 'settings'])
        .where('deletedAt', 'is', null)
        .where('enabled', '=', true)
        .orderBy('position')
        .execute();
      return rows.map(
        (r) =>
          ({ name: r.name, type: r.type, enabled: r.enabled, ...r.settings }) as AuthServerConfig,
      );
    },
    async probeAuthServer(server) {
      if (server.type === 'ldap') await directory.probe(server);
    },
    loadAverage,
  };
}
