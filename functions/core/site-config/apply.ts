/**
 * Configuration as code: make the site match a configuration document, all or nothing.
 */

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { hashAgentKey } from '../agents/keys.ts';
import { BadRequestError } from '../errors.ts';
import type { PasswordHasher } from '../login/ports.ts';
import { type ConfigChange, diffSiteConfig } from './diff.ts';
import type { SiteConfigStore } from './ports.ts';
import { KEPT_SECRET, type SiteConfig } from './schema.ts';
import { InvalidConfigError, parseSiteConfig } from './validate.ts';

export interface ApplyResult {
  readonly changes: readonly ConfigChange[];
  readonly dryRun: boolean;
}

/**
 * Validates `document`, hashes its secrets, and makes the site match it in one transaction.
 * Applying the same document twice changes nothing the second time.
 * @throws {InvalidConfigError} listing every problem with its path; the site is unchanged.
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
  const parsed = parseSiteConfig(document);
  const current = await deps.store.read();
  const desired = await resolveSecrets(parsed, current, deps.hasher);
  const changes = await deps.store.apply(desired, (now) => diffSiteConfig(now, desired), {
    dryRun: options.dryRun ?? false,
  });
  if (changes.length > 0 && !options.dryRun) await deps.afterApply?.(current, desired);
  return { changes, dryRun: options.dryRun ?? false };
}

/**
 * Replaces clear secrets with what is stored: password → argon2id hash (the current hash is
 * kept when the password is unchanged, so apply stays idempotent), agent key → SHA-256,
 * a kept ("(kept)") bind password, TOTP secret, password hash or agent-key hash → the stored
 * one. Fills each user's default auth
 * server.
 */
async function resolveSecrets(
  config: SiteConfig,
  current: SiteConfig,
  hasher: PasswordHasher,
): Promise<SiteConfig> {
  const firstLocal = config.authServers.find((s) => s.type === 'local')?.name;
  const currentUsers = new Map(current.users.map((u) => [u.name.toLowerCase(), u]));
  const problems: { path: string; message: string }[] = [];
  const users = await Promise.all(
    config.users.map(async ({ password, ...given }, i) => {
      const stored = currentUsers.get(given.name.toLowerCase());
      const user = { ...given };
      if (user.mfaSecret === KEPT_SECRET) {
        user.mfaSecret = stored?.mfaSecret;
        if (user.mfaSecret === undefined)
          problems.push({
            path: `users[${i}].mfaSecret`,
            message: 'no stored TOTP secret to keep',
          });
      }
      if (user.passwordHash === KEPT_SECRET) {
        user.passwordHash = stored?.passwordHash;
        if (user.passwordHash === undefined)
          problems.push({ path: `users[${i}].passwordHash`, message: 'no stored password to keep' });
      }
      const authServer = user.authServer ?? firstLocal;
      if (password === undefined) return { ...user, authServer };
      const old = stored?.passwordHash;
      const passwordHash =
        old && (await hasher.verify(old, password)) ? old : await hasher.hash(password);
      return { ...user, authServer, passwordHash };
    }),
  );

  const currentServers = new Map(current.authServers.map((s) => [s.name.toLowerCase(), s]));
  const authServers = config.authServers.map((server, i) => {
    if (server.type !== 'ldap' || server.bindPassword !== KEPT_SECRET) return server;
    const old = currentServers.get(server.name.toLowerCase());
    const stored = old?.type === 'ldap' ? old.bindPassword : undefined;
    if (stored === undefined) {
      problems.push({
        path: `authServers[${i}].bindPassword`,
        message: 'no stored bind password to keep',
      });
    }
    return { ...server, bindPassword: stored };
  });

  const storedKeys = new Map(
    current.pools.flatMap((p) => p.desktops.map((d) => [d.name.toLowerCase(), d.agentKeyHash])),
  );
  const pools = config.pools.map((pool, p) => ({
    ...pool,
    desktops: pool.desktops.map(({ agentKey, ...desktop }, d) => {
      if (agentKey !== undefined) return { ...desktop, agentKeyHash: hashAgentKey(agentKey) };
      if (desktop.agentKeyHash !== KEPT_SECRET) return desktop;
      const agentKeyHash = storedKeys.get(desktop.name.toLowerCase());
      if (agentKeyHash === undefined)
        problems.push({
          path: `pools[${p}].desktops[${d}].agentKeyHash`,
          message: 'no stored agent key to keep',
        });
      return { ...desktop, agentKeyHash };
    }),
  }));
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return { ...config, authServers, users, pools };
}

/**
 * The configuration with no secret in it, for showing and downloading over the API: LDAP
 * bind passwords, TOTP secrets, password hashes and agent-key hashes become "(kept)", which
 * apply reads as "keep the stored one", so the text applies back unchanged. (A hash is not
 * the password, but it is what an offline guess is checked against: it stays in the site
 * database.)
 */
export function withoutSecrets(config: SiteConfig): SiteConfig {
  const kept = <T>(value: T | undefined) => (value === undefined ? undefined : KEPT_SECRET);
  return {
    ...config,
    authServers: config.authServers.map((s) =>
      s.type === 'ldap' && s.bindPassword !== undefined ? { ...s, bindPassword: KEPT_SECRET } : s,
    ),
    users: config.users.map(({ passwordHash, mfaSecret, ...u }) => ({
      ...u,
      ...(passwordHash === undefined ? {} : { passwordHash: kept(passwordHash) }),
      ...(mfaSecret === undefined ? {} : { mfaSecret: kept(mfaSecret) }),
    })),
    pools: config.pools.map((p) => ({
      ...p,
      desktops: p.desktops.map((d) =>
        d.agentKeyHash === undefined ? d : { ...d, agentKeyHash: KEPT_SECRET },
      ),
    })),
  };
}

/** Decodes a configuration file's text: JSON when it looks like JSON, else YAML. */
export function decodeConfigText(text: string): unknown {
  const trimmed = text.trim();
  try {
    return trimmed.startsWith('{') ? JSON.parse(trimmed) : parseYaml(text);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new BadRequestError(
      'invalid_config_syntax',
      `the configuration is not valid YAML or JSON: ${reason}`,
    );
  }
}

/** Encodes a configuration for `export`: YAML by default, JSON on request. */
export function encodeConfig(config: SiteConfig, format: 'yaml' | 'json' = 'yaml'): string {
  return format === 'json'
    ? `${JSON.stringify(config, null, 2)}\n`
    : stringifyYaml(config, { lineWidth: 0 });
}
