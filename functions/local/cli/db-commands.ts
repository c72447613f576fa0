/**
 * `deskbroker db ...`: schema upgrades (and, later, switching databases).
 */
import {
  databaseSchemaVersion,
  ensureSchema,
  SCHEMA_VERSION,
} from '../../adapters/site-db/migrate.ts';
import { describeTarget, loadConfig } from '../../config.ts';
import { openLocal } from '../runtime.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

export const migrateCommand: Command = {
  usage: 'db migrate [--db URL]',
  summary: `create or upgrade the site database schema to this broker's version (${SCHEMA_VERSION})`,
  options: { ...siteFlags },
  async run(flags, _positionals, env) {
    const config = loadConfig(envWithFlags(env, flags));
    const local = await openLocal(config);
    try {
      const before = await databaseSchemaVersion(local.broker.site.db);
      const result = await ensureSchema(local.broker.site.db, {
        createIfEmpty: true,
        upgrade: true,
      });
      const what = result.created
        ? 'created'
        : result.upgraded
          ? `upgraded from ${before}`
          : 'already at';
      console.log(`${describeTarget(config.siteDb)}: schema ${what} version ${result.version}`);
      return 0;
    } finally {
      await local.close();
    }
  },
};
