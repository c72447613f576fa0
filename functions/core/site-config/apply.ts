/**
 * Configuration as code: make the site match a configuration document, all or nothing.
 */

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { hashAgentKey } from '../agents/keys.ts';
import { BadRequestError } from '../errors.ts';
import type { PasswordHasher } from '../login/ports.ts';
import { findTextProblem } from '../text.ts';
import { type ConfigChange, diffSiteConfig } from './diff.ts';
import type { SiteConfigStore } from './ports.ts';
import { KEPT_SECRET, type SiteConfig } from './schema.ts';
import {
  type ConfigProblem,
  checkSiteConfig,
  formatPath,
  InvalidConfigError,
  sortProblems,
} from './validate.ts';

export interface ApplyResult {
  readonly changes: readonly ConfigChange[];
  readonly dryRun: boolean;
}

/**
 * Validates `document`, hashes its secrets, and makes the site match it in one transaction.
 * Applying the same document twice changes nothing the second time.
 * @throws {InvalidConfigError} listing every problem of the document with its path (shape,
 *   references and secrets to keep, in one pass); the site is unchanged.
 */
export async function applySiteConfig(
  deps: {
    store: SiteConfigStore;
    hasher: PasswordHasher;
    /** Runs after a committed change (leased mode mirrors accounts and agent keys). */
    afterApply?: (before: SiteConfig, after: SiteConfig) => Promise<void>;
  },
  document: unknown,
  options: { dryRun?: boolean } = {},
): Promise<ApplyResult> {
  const checked = checkSiteConfig(document);
  const current = await deps.store.read();
  const problems = [...checked.problems, ...keptSecretProblems(document, current)];
  if (!checked.config || problems.length > 0) throw new InvalidConfigError(sortProblems(problems));
  const desired = await resolveSecrets(checked.config, current, deps.hasher);
  const changes = await deps.store.apply(desired, (now) => diffSiteConfig(now, desired), {
    dryRun: options.dryRun ?? false,
  });
  if (changes.length > 0 && !options.dryRun) await deps.afterApply?.(current, desired);
  return { changes, dryRun: options.dryRun ?? false };
}

/**
 * Replaces clear secrets with what is stored: password → argon2id hash (the current hash is
 * kept when the password is unchanged, so apply stays idempotent), agent key → SHA-256,
 * a kept LDAP bind password → the stored one (checked to exist beforehand). Fills each
 * user's default auth server.
 */
async function resolveSecrets(
  config: SiteConfig,
  current: SiteConfig,
  hasher: PasswordHasher,
): Promise<SiteConfig> {
  const firstLocal = config.authServers.find((s) => s.type === 'local')?.name;
  const currentUsers = new Map(current.users.map((u) => [u.name.toLowerCase(), u]));
  const users = await Promise.all(
    config.users.map(async ({ password, ...user }) => {
      const authServer = user.authServer ?? firstLocal;
      if (password === undefined) return { ...user, authServer };
      const old = currentUsers.get(user.name.toLowerCase())?.passwordHash;
      const passwordHash =
        old && (await hasher.verify(old, password)) ? old : await hasher.hash(password);
      return { ...user, authServer, passwordHash };
    }),
  );

  const authServers = config.authServers.map((server) =>
    server.type === 'ldap' && server.bindPassword === KEPT_SECRET
      ? { ...server, bindPassword: storedBindPassword(current, server.name) }
      : server,
  );

  const pools = config.pools.map((pool) => ({
    ...pool,
    desktops: pool.desktops.map(({ agentKey, ...desktop }) =>
      agentKey === undefined ? desktop : { ...desktop, agentKeyHash: hashAgentKey(agentKey) },
    ),
  }));
  return { ...config, authServers, users, pools };
}

function storedBindPassword(current: SiteConfig, server: string): string | undefined {
  const old = current.authServers.find((s) => s.name.toLowerCase() === server.toLowerCase());
  return old?.type === 'ldap' ? old.bindPassword : undefined;
}

/** `(kept)` bind passwords with nothing stored to keep (read from the raw document, whatever its shape). */
function keptSecretProblems(document: unknown, current: SiteConfig): ConfigProblem[] {
  const servers = (document as { authServers?: unknown } | null)?.authServers;
  if (!Array.isArray(servers)) return [];
  return servers.flatMap((server: unknown, i) => {
    const s = server as { name?: unknown; type?: unknown; bindPassword?: unknown } | null;
    if (s?.type !== 'ldap' || s.bindPassword !== KEPT_SECRET || typeof s.name !== 'string')
      return [];
    return storedBindPassword(current, s.name.trim()) === undefined
      ? [{ path: `authServers[${i}].bindPassword`, message: 'no stored bind password to keep' }]
      : [];
  });
}

/**
 * Decodes a configuration file's text: JSON when it looks like JSON, else YAML.
 * @throws {BadRequestError} `invalid_config_syntax`, or `invalid_text` for a string the site
 *   database cannot store (a NUL character or a lone surrogate, escaped in the file).
 */
export function decodeConfigText(text: string): unknown {
  const trimmed = text.trim();
  let document: unknown;
  try {
    document = trimmed.startsWith('{') ? JSON.parse(trimmed) : parseYaml(text);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new BadRequestError(
      'invalid_config_syntax',
      `the configuration is not valid YAML or JSON: ${reason}`,
    );
  }
  const bad = findTextProblem(document);
  if (bad) throw new BadRequestError('invalid_text', `${formatPath(bad.path)}: ${bad.message}`);
  return document;
}

/** Encodes a configuration for `export`: YAML by default, JSON on request. */
export function encodeConfig(config: SiteConfig, format: 'yaml' | 'json' = 'yaml'): string {
  return format === 'json'
    ? `${JSON.stringify(config, null, 2)}\n`
    : stringifyYaml(config, { lineWidth: 0 });
}
