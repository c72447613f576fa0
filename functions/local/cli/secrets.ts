/**
 * `deskbroker secrets status | rotate | reencrypt`: how the stored secrets (LDAP bind
 * passwords, TOTP secrets) are sealed, a new local master key, and re-encryption under the
 * current key. On the site database directly (`--db`), or through a running broker (`--url`).
 */
import { addKey, readKeyFile } from '../../adapters/encryption/key-file.ts';
import { ensureSchema } from '../../adapters/site-db/migrate.ts';
import { loadConfig } from '../../config.ts';
import { resealSecrets, secretsByKey } from '../../core/secrets/reseal.ts';
import { resealDeps } from '../../handlers/http/deps.ts';
import { openLocal } from '../runtime.ts';
import { adminFetch } from './remote.ts';
import { type Command, envWithFlags, siteFlags } from './shared.ts';

type ByKey = Record<string, number>;

function printByKey(byKey: ByKey, current: string | undefined): void {
  const entries = Object.entries(byKey);
  if (entries.length === 0) console.log('no stored secrets');
  for (const [key, count] of entries) {
    const note = key === 'clear' ? '  (not sealed yet: sealed at the next start)' : '';
    console.log(
      `${String(count).padStart(5)}  ${key}${key === current ? '  (current key)' : ''}${note}`,
    );
  }
}

export const secretsCommand: Command = {
  usage: 'secrets status | rotate | reencrypt   [--db URL | --url BROKER_URL]',
  summary:
    'stored secrets by key; rotate: a new local master key, then re-encrypt; reencrypt: every secret under the current key',
  options: { ...siteFlags, url: { type: 'string' } },
  async run(flags, positionals, env) {
    const action = positionals[0];
    if (action !== 'status' && action !== 'rotate' && action !== 'reencrypt') {
      console.error(
        `deskbroker secrets: say status, rotate or reencrypt\n\nusage: deskbroker ${this.usage}`,
      );
      return 2;
    }
    const config = loadConfig(envWithFlags(env, flags));
    const keyFile = config.secretsKey.kind === 'file' ? config.secretsKey.path : undefined;
    if (action === 'rotate') {
      if (!keyFile) {
        console.error(
          'deskbroker secrets rotate: the master key is a KMS key (SECRETS_KEY_ARN): KMS rotates it (README "Security"); run `deskbroker secrets reencrypt` for fresh data keys',
        );
        return 2;
      }
      console.log(`new master key ${addKey(keyFile)} in ${keyFile} (the old keys stay)`);
    }
    const current = keyFile
      ? readKeyFile(keyFile).current
      : config.secretsKey.kind === 'kms'
        ? config.secretsKey.keyId
        : undefined;
    if (typeof flags.url === 'string') {
      const path =
        action === 'status' ? '/api/v1/admin/secrets' : '/api/v1/admin/secrets/reencrypt';
      const res = await adminFetch(flags.url, env, path, {
        method: action === 'status' ? 'GET' : 'POST',
      });
      const body = (await res.json()) as { byKey: ByKey; resealed?: number };
      if (body.resealed !== undefined)
        console.log(`re-encrypted ${body.resealed} stored secret(s)`);
      printByKey(body.byKey, current);
      return 0;
    }
    const local = await openLocal(config);
    try {
      await ensureSchema(local.broker.site.db, { createIfEmpty: false, upgrade: false });
      const deps = resealDeps(local.broker);
      if (action !== 'status') {
        const { resealed } = await resealSecrets(deps, 'all');
        console.log(`re-encrypted ${resealed} stored secret(s)`);
      }
      printByKey(await secretsByKey(deps), current);
      return 0;
    } finally {
      await local.close();
    }
  },
};
