/** Ports of the site configuration: the store behind apply and export, and the cached snapshot the login path reads. */
import type { ConfigChange } from './diff.ts';
import type { SiteConfig } from './schema.ts';
import type { SiteSnapshot } from './snapshot.ts';

/** The site configuration as a whole, for apply and export. */
export interface SiteConfigStore {
  /** The live configuration in export form (hashes, no clear passwords), defaults filled. */
  read(): Promise<SiteConfig>;
  /**
   * In one transaction: re-reads the configuration, asks `plan` what to change, writes it.
   * With `dryRun` the transaction is rolled back and the planned changes returned.
   */
  apply(
    desired: SiteConfig,
    plan: (current: SiteConfig) => ConfigChange[],
    options: { dryRun: boolean },
  ): Promise<ConfigChange[]>;
}

/** The cached view of the site configuration the login path reads. */
export interface SiteSnapshotSource {
  get(): Promise<SiteSnapshot>;
  /** Drops the cached copy (after an apply on this broker). */
  invalidate(): void;
}
