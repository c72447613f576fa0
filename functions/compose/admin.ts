/**
 * The administration side of the composition: the site configuration's store, the stored
 * secrets, and the admin console's views of the site database.
 */
import { SqlActivityViews } from '../adapters/site-db/admin-activity.ts';
import { SqlDesktopViews } from '../adapters/site-db/admin-desktops.ts';
import { SqlStoredSecrets } from '../adapters/site-db/secret-store.ts';
import { SqlSiteConfigStore } from '../adapters/site-db/site-config-store.ts';
import type { ActivityViews, DesktopViews } from '../core/admin/ports.ts';
import type { StoredSecrets } from '../core/secrets/ports.ts';
import type { SiteConfigStore } from '../core/site-config/ports.ts';
import type { BrokerBase } from './base.ts';

export interface AdminParts {
  readonly siteConfig: SiteConfigStore;
  /** The stored secrets of the site database (sealing old clear values, re-encryption). */
  readonly storedSecrets: StoredSecrets;
  /** The admin console's views of the site database. */
  readonly admin: { readonly desktops: DesktopViews; readonly activity: ActivityViews };
}

export function composeAdmin(base: BrokerBase): AdminParts {
  const db = base.site.db;
  return {
    siteConfig: new SqlSiteConfigStore(db),
    storedSecrets: new SqlStoredSecrets(db),
    admin: {
      desktops: new SqlDesktopViews(db, base.config.siteId),
      activity: new SqlActivityViews(db),
    },
  };
}
