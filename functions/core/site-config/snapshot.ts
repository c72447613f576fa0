/**
 * The site configuration as the login path reads it: the configuration file's entries plus
 * the ids the SQL queries need. Loaded from the site database and cached for a few seconds
 * (an apply on the same broker refreshes it at once), so a login costs no configuration
 * queries.
 */
import type { SiteConfig } from './schema.ts';

export interface SiteSnapshot {
  readonly config: SiteConfig;
  /** Live pool name (lower case) → id. */
  readonly poolIds: ReadonlyMap<string, number>;
  /** Pool id → name. */
  readonly poolNames: ReadonlyMap<number, string>;
  /** Live gateway name (lower case) → id. */
  readonly gatewayIds: ReadonlyMap<string, number>;
  /** When it was read, epoch ms. */
  readonly loadedAt: number;
}

export function poolId(snapshot: SiteSnapshot, name: string): number | undefined {
  return snapshot.poolIds.get(name.toLowerCase());
}

/** Entry lookups that are case-insensitive by name, as names are keys. */
export function byName<T extends { name: string }>(
  list: readonly T[],
  name: string | undefined,
): T | undefined {
  if (name === undefined) return undefined;
  const lower = name.toLowerCase();
  return list.find((e) => e.name.toLowerCase() === lower);
}
