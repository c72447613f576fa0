/**
 * The probes behind the health queries: the site database, the authentication servers,
 * the load average. Each failure is a ProbeFailure of its kind (see ./failure-kind.ts), the
 * original error kept as its cause for the log.
 */
import os from 'node:os';
import { sql } from 'kysely';
import type { HealthProbes } from '../core/health.ts';
import type { DirectoryAuthenticator } from '../core/login/ports.ts';
import type { AuthServerConfig } from '../core/site-config/schema.ts';
import { asProbeFailure } from './failure-kind.ts';
import type { SiteDb } from './site-db/connect.ts';

/** Runs `probe`, turning what it throws into a ProbeFailure. */
async function probing<T>(probe: () => Promise<T>): Promise<T> {
  try {
    return await probe();
  } catch (e: unknown) {
    throw asProbeFailure(e);
  }
}

export function createHealthProbes(
  db: SiteDb,
  directory: DirectoryAuthenticator,
  loadAverage: () => number = () => os.loadavg()[0]!,
): HealthProbes {
  return {
    pingDatabase: () =>
      probing(async () => {
        await sql`select 1`.execute(db);
      }),
    enabledAuthServers: () =>
      probing(async () => {
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
      }),
    probeAuthServer: (server) =>
      probing(async () => {
        if (server.type === 'ldap') await directory.probe(server);
      }),
    loadAverage,
  };
}
