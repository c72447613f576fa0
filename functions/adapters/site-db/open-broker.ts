/**
 * The broker's site database, as the configuration describes it. The failover machinery
 * (./failover.ts) loads only when a secondary database is configured.
 */
import type { Config } from '../../config.ts';
import type { Logger } from '../logger.ts';
import type { StateTable } from '../state/state-table.ts';
import { openSiteDatabase, type SiteDatabase } from './connect.ts';

/**
 * Opens the site database of the configuration: with a secondary, one that fails over to it.
 * Nothing connects until first used.
 * @throws {Error} for a target it cannot open (bad URL, unreadable PGlite folder).
 */
export async function openBrokerSiteDatabase(
  config: Config,
  state: StateTable,
  logger: Logger,
): Promise<SiteDatabase> {
  const options = { statementTimeoutMs: config.dbStatementTimeoutMs };
  if (!config.secondaryDb) return openSiteDatabase(config.siteDb, options);
  const { openFailoverSiteDatabase, stateTableActiveStore } = await import('./failover.ts');
  return openFailoverSiteDatabase(config.siteDb, config.secondaryDb, {
    ...options,
    logger,
    store: stateTableActiveStore(state, config.siteDb, config.secondaryDb),
  });
}
