/**
 * `deskbroker db switch --to URL --copy | --attach`: the guide's "Switching to an External
 * Database". --copy copies every row of the current site database (usually the embedded
 * one) into a new, empty PostgreSQL database, with a progress bar and a row count per table
 * at the end; --attach joins an existing site database without copying, after checking its
 * schema version. Nothing is changed on the current database; the command says what to set
 * next (SITE_DB_URL, or --db) for `serve`.
 */

import { SqlClusterStore } from '../../adapters/site-db/cluster-store.ts';
import { openSiteDatabase, type SiteDatabase } from '../../adapters/site-db/connect.ts';
import {
  databaseSchemaVersion,
  ensureSchema,
  migrateToLatest,
  SCHEMA_VERSION,
} from '../../adapters/site-db/migrate.ts';
import {
  type CopyProgress,
  copySite,
  siteTables,
  tableCounts,
} from '../../adapters/site-db/site-copy.ts';
import { type DatabaseTarget, describeTarget, loadConfig, parseDatabaseUrl } from '../../config.ts';
import { listCluster } from '../../core/jobs/cluster.ts';
import { lockDataFolder } from '../data-lock.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

const open = (target: DatabaseTarget) => openSiteDatabase(target, { statementTimeoutMs: 600_000 });

/** A progress bar on stderr: redrawn in place on a terminal, one line per table otherwise. */
function progressBar(stream: NodeJS.WriteStream) {
  let lastTable = '';
  return {
    update(p: CopyProgress) {
      const share = p.total === 0 ? 1 : p.copied / p.total;
      const width = 30;
      const filled = Math.round(share * width);
      const line = `copying [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${p.copied}/${p.total} rows  table ${p.tableIndex}/${p.tables} ${p.table}`;
      if (stream.isTTY) stream.write(`\r${line.padEnd(stream.columns ? stream.columns - 1 : 100)}`);
      else if (p.table !== lastTable) stream.write(`${line}\n`);
      lastTable = p.table;
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

function nextSteps(to: DatabaseTarget): string {
  const shown = describeTarget(to);
  return [
    'Next: start the broker on the external database (the command changes no setting itself):',
    `  SITE_DB_URL='${shown}' npm start        (put your password back into the URL)`,
    `  or: npx deskbroker serve --db '${shown}' --site-id N`,
    'Every broker of a cluster uses the same URL and its own --site-id. The embedded database',
    'is left as it was; do not start a broker on it again, or the two sites drift apart.',
  ].join('\n');
}

async function copy(from: SiteDatabase, to: SiteDatabase, fromKind: string): Promise<number> {
  await ensureSchema(from.db, { createIfEmpty: false, upgrade: fromKind === 'pglite' });
  const version = await databaseSchemaVersion(to.db);
  if (version !== 'none' && version !== SCHEMA_VERSION) {
    console.error(
      `deskbroker db switch: ${describeTarget(to.target)} has schema version ${version}, this broker has ${SCHEMA_VERSION}; give an empty database`,
    );
    return 1;
  }
  if (version !== 'none') {
    const counts = await tableCounts(to.db, await siteTables(to.db));
    const used = Object.entries(counts).filter(([, n]) => n > 0);
    if (used.length > 0) {
      console.error(
        `deskbroker db switch: ${describeTarget(to.target)} already holds a site (${used.map(([t, n]) => `${t}: ${n}`).join(', ')}); use --attach to join it, or give an empty database`,
      );
      return 1;
    }
  } else {
    await migrateToLatest(to.db);
  }
  const tables = await siteTables(from.db);
  const bar = progressBar(process.stderr);
  await copySite(from.db, to.db, tables, (p) => bar.update(p));
  bar.done();
  const [before, after] = [await tableCounts(from.db, tables), await tableCounts(to.db, tables)];
  const width = Math.max(...tables.map((t) => t.length));
  const mismatched = tables.filter((t) => before[t] !== after[t]);
  console.log(`${'table'.padEnd(width)}  source  target`);
  for (const t of tables) {
    console.log(
      `${t.padEnd(width)}  ${String(before[t]).padStart(6)}  ${String(after[t]).padStart(6)}${before[t] === after[t] ? '' : '  MISMATCH'}`,
    );
  }
  if (mismatched.length > 0) {
    console.error(`deskbroker db switch: row counts differ in ${mismatched.join(', ')}`);
    return 1;
  }
  const rows = Object.values(after).reduce((a, b) => a + b, 0);
  console.log(
    `copied ${rows} rows in ${tables.length} tables to ${describeTarget(to.target)}; every count matches`,
  );
  return 0;
}

async function attach(to: SiteDatabase, siteId: number): Promise<number> {
  await ensureSchema(to.db, { createIfEmpty: false, upgrade: false });
  const cluster = await listCluster(new SqlClusterStore(to.db));
  const holder = cluster.members.find((m) => m.siteId === siteId);
  console.log(
    `${describeTarget(to.target)}: a site at schema version ${SCHEMA_VERSION}, ${cluster.members.length} broker(s):`,
  );
  for (const m of cluster.members)
    console.log(`  site ${m.siteId}  ${m.state.padEnd(11)} ${m.name} (${m.address})`);
  if (holder?.state === 'Running') {
    console.log(
      `site ID ${siteId} is used by a running broker: start this one with another --site-id`,
    );
  }
  return 0;
}

export const switchCommand: Command = {
  usage: 'db switch --to URL (--copy | --attach) [--db CURRENT_URL] [--site-id N]',
  summary:
    'move to an external PostgreSQL database: copy this site into an empty one, or attach to an existing site',
  options: {
    ...siteFlags,
    to: { type: 'string' },
    copy: { type: 'boolean' },
    attach: { type: 'boolean' },
  },
  async run(flags, _positionals, env) {
    if (typeof flags.to !== 'string' || Boolean(flags.copy) === Boolean(flags.attach)) {
      console.error('deskbroker db switch: give --to URL and one of --copy or --attach');
      return 2;
    }
    const target = parseDatabaseUrl(flags.to);
    if (target.kind !== 'postgres') {
      console.error('deskbroker db switch: --to must be a postgres:// URL');
      return 2;
    }
    const config = loadConfig(envWithFlags(env, flags));
    const to = await open(target);
    try {
      if (flags.attach) {
        const code = await attach(to, config.siteId);
        if (code === 0) console.log(nextSteps(target));
        return code;
      }
      const release =
        config.siteDb.kind === 'pglite' ? lockDataFolder(config.siteDb.path) : () => {};
      const from = await open(config.siteDb);
      try {
        const code = await copy(from, to, config.siteDb.kind);
        if (code === 0) console.log(nextSteps(target));
        return code;
      } finally {
        await from.close();
        release();
      }
    } finally {
      await to.close();
    }
  },
};
