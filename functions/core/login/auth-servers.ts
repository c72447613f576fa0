/**
 * The authentication servers a sign-in may name: the enabled ones, in their order, by name
 * and type only. The sign-in page asks before anyone signs in, so it works in leased mode too
 * (from the leased-mode copy of the site).
 */

import { ServiceUnavailableError } from '../errors.ts';
import { type LeasingDeps, siteOrLeases } from '../leasing/leased-mode.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { SiteConfig } from '../site-config/schema.ts';

export interface AuthServerChoice {
  readonly name: string;
  readonly type: 'local' | 'ldap';
}

const choices = (servers: SiteConfig['authServers']): AuthServerChoice[] =>
  servers.filter((s) => s.enabled).map((s) => ({ name: s.name, type: s.type }));

/** @throws {ServiceUnavailableError} when neither the site nor its leased-mode copy answers. */
export async function enabledAuthServers(deps: {
  readonly snapshot: SiteSnapshotSource;
  readonly leasing?: LeasingDeps;
}): Promise<AuthServerChoice[]> {
  const normal = async () => choices((await deps.snapshot.get()).config.authServers);
  if (!deps.leasing) return normal();
  const { mirror } = deps.leasing;
  return siteOrLeases(deps.leasing, normal, async () => {
    const site = await mirror.loadSite();
    if (!site)
      throw new ServiceUnavailableError(
        'site_database_unavailable',
        'the site database is not reachable; try again later',
      );
    return choices(site.authServers);
  });
}
