/**
 * `deskbroker apply FILE` and `deskbroker export`: the site configuration as code, either on
 * the site database directly or, with --url, through a running broker's admin API.
 */
import { readFile } from 'node:fs/promises';
import { ensureSchema } from '../../adapters/site-db/migrate.ts';
import { loadConfig } from '../../config.ts';
import {
  applySiteConfig,
  decodeConfigText,
  encodeConfig,
  exportSiteConfig,
} from '../../core/site-config/apply.ts';
import { describeChange } from '../../core/site-config/diff.ts';
import { InvalidConfigError } from '../../core/site-config/validate.ts';
import { applyDeps } from '../../handlers/http/deps.ts';
import { openLocal } from '../runtime.ts';
import { adminFetch } from './remote.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

const remoteFlags = { url: { type: 'string' } } as const;

export const applyCommand: Command = {
  usage: 'apply FILE [--dry-run] [--db URL | --url BROKER_URL]',
  summary: 'make the site match a configuration file (YAML or JSON), all or nothing',
  options: { ...siteFlags, ...remoteFlags, 'dry-run': { type: 'boolean' } },
  async run(flags, positionals, env) {
    const file = positionals[0];
    if (!file) {
      console.error('deskbroker apply: name the configuration file (deskbroker apply site.yaml)');
      return 2;
    }
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    const dryRun = Boolean(flags['dry-run']);
    let changes: string[];
    try {
      if (typeof flags.url === 'string') {
        const res = await adminFetch(
          flags.url,
          env,
          `/api/v1/admin/config${dryRun ? '?dryRun=true' : ''}`,
          {
            method: 'PUT',
            body: text,
            headers: { 'content-type': 'application/yaml' },
          },
        );
        changes = ((await res.json()) as { changes: string[] }).changes;
      } else {
        const document = decodeConfigText(text);
        const local = await openLocal(loadConfig(envWithFlags(env, flags)));
        try {
          await ensureSchema(local.broker.site.db, { createIfEmpty: true, upgrade: false });
          const result = await applySiteConfig(applyDeps(local.broker), document, { dryRun });
          changes = result.changes.map(describeChange);
        } finally {
          await local.close();
        }
      }
    } catch (e: unknown) {
      if (e instanceof InvalidConfigError) {
        console.error(`${file}: ${e.problems.length} problem(s), nothing was changed:`);
        for (const p of e.problems) console.error(`  ${p.path}: ${p.message}`);
        return 1;
      }
      throw e;
    }
    if (changes.length === 0) console.log(`${file}: no changes`);
    else {
      console.log(
        `${file}: ${changes.length} change(s)${dryRun ? ' (dry run, nothing written)' : ''}`,
      );
      for (const c of changes) console.log(`  ${c}`);
    }
    return 0;
  },
};

export const exportCommand: Command = {
  usage: 'export [--format yaml|json] [--db URL | --url BROKER_URL]',
  summary:
    'print the site configuration (local passwords as hashes; bind passwords and TOTP secrets as "(kept)")',
  options: { ...siteFlags, ...remoteFlags, format: { type: 'string' } },
  async run(flags, _positionals, env) {
    const format = flags.format === 'json' ? 'json' : 'yaml';
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'yaml') {
      console.error('deskbroker export: --format is yaml or json');
      return 2;
    }
    if (typeof flags.url === 'string') {
      const res = await adminFetch(flags.url, env, `/api/v1/admin/config?format=${format}`, {
        method: 'GET',
      });
      process.stdout.write(await res.text());
      return 0;
    }
    const local = await openLocal(loadConfig(envWithFlags(env, flags)));
    try {
      await ensureSchema(local.broker.site.db, { createIfEmpty: false, upgrade: false });
      process.stdout.write(encodeConfig(await exportSiteConfig(local.broker.siteConfig), format));
      return 0;
    } finally {
      await local.close();
    }
  },
};
