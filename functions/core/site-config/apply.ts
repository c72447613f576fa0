/**
 * Configuration as code: make the site match a configuration document, all or nothing.
 */

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { hashAgentKey } from '../agents/keys.ts';
import { BadRequestError } from '../errors.ts';
import type { PasswordHasher } from '../login/ports.ts';
import type { SecretBox } from '../secrets/ports.ts';
import { findTextProblem } from '../text.ts';
import { type ConfigChange, diffSiteConfig } from './diff.ts';
import type { SiteConfigStore, SiteSnapshotSource } from './ports.ts';
import { KEPT_SECRET, type SiteConfig } from './schema.ts';
import { redactSecrets, sealSecrets } from './stored-secrets.ts';
import {
  type ConfigProblem,
  checkSiteConfig,
  formatPath,
  InvalidConfigError,
  sortProblems,
} from './validate.ts';

/** What applying a configuration needs. */
export interface ApplyDeps {
  readonly store: SiteConfigStore;
  readonly hasher: PasswordHasher;
  /** Seals bind passwords and TOTP secrets before they are stored. */
  readonly secrets: SecretBox;
  /**
   * This broker's cached view of the configuration: dropped as soon as a change is committed,
   * before anything else runs, so the login path never serves the configuration it replaced.
   */
  readonly snapshot: Pick<SiteSnapshotSource, 'invalidate'>;
  /** Runs after a committed change (leased mode mirrors accounts and agent keys). */
  readonly afterApply?: (before: SiteConfig, after: SiteConfig) => Promise<void>;
  /** The heartbeat period the runtime fixes (on AWS, the EventBridge schedule's). */
  readonly fixedHeartbeatSeconds?: number;
}

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
  deps: ApplyDeps,
  document: unknown,
  options: { dryRun?: boolean } = {},
): Promise<ApplyResult> {
  const checked = checkSiteConfig(document);
  const current = await deps.store.read();
  const fixed = deps.fixedHeartbeatSeconds;
  const problems = [
    ...checked.problems,
    ...keptSecretProblems(document, current),
    ...heartbeatProblems(document, fixed),
  ];
  if (!checked.config || problems.length > 0) throw new InvalidConfigError(sortProblems(problems));
  const desired = await resolveSecrets(withHeartbeat(checked.config, fixed), current, deps);
  const changes = await deps.store.apply(desired, (now) => diffSiteConfig(now, desired), {
    dryRun: options.dryRun ?? false,
  });
  if (changes.length > 0 && !options.dryRun) {
    deps.snapshot.invalidate();
    await deps.afterApply?.(current, desired);
  }
  return { changes, dryRun: options.dryRun ?? false };
}

/** The site configuration as `export` writes it: no stored secret, `(kept)` in its place. */
export async function exportSiteConfig(store: SiteConfigStore): Promise<SiteConfig> {
  return redactSecrets(await store.read());
}

/**
 * On a runtime whose heartbeat period is fixed (AWS: the EventBridge schedule that drives the
 * heartbeat job), `settings.heartbeatSeconds` follows it: a file that gives another value is
 * refused, since brokers would show as Unavailable between beats or be judged on a period
 * that does not run.
 */
export function heartbeatProblems(
  document: unknown,
  fixed: number | undefined,
): { path: string; message: string }[] {
  const given = (document as { settings?: { heartbeatSeconds?: unknown } } | null)?.settings
    ?.heartbeatSeconds;
  if (fixed === undefined || given === undefined || given === fixed) return [];
  return [
    {
      path: 'settings.heartbeatSeconds',
      message: `${String(given)} cannot be honoured here: this deployment's heartbeat runs every ${fixed} s (its EventBridge schedule, HEARTBEAT_SECONDS); give ${fixed} or leave it out`,
    },
  ];
}

/** A file that leaves `settings.heartbeatSeconds` out gets the runtime's fixed period. */
export function withHeartbeat(config: SiteConfig, fixed: number | undefined): SiteConfig {
  if (fixed === undefined || config.settings.heartbeatSeconds === fixed) return config;
  return { ...config, settings: { ...config.settings, heartbeatSeconds: fixed } };
}

/**
 * Replaces clear secrets with what is stored: password → argon2id hash (the current hash is
 * kept when the password is unchanged, so apply stays idempotent), agent key → SHA-256,
 * LDAP bind password and TOTP secret → sealed (the stored one when kept or unchanged; a kept
 * one is checked to exist beforehand). Fills each user's default auth server.
 */
async function resolveSecrets(
  config: SiteConfig,
  current: SiteConfig,
  { hasher, secrets }: Pick<ApplyDeps, 'hasher' | 'secrets'>,
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

  const problems: { path: string; message: string }[] = [];
  const sealed = await sealSecrets({ ...config, users }, current, secrets, problems);
  if (problems.length > 0) throw new InvalidConfigError(problems);

  const pools = config.pools.map((pool) => ({
    ...pool,
    desktops: pool.desktops.map(({ agentKey, ...desktop }) =>
      agentKey === undefined ? desktop : { ...desktop, agentKeyHash: hashAgentKey(agentKey) },
    ),
  }));
  return { ...config, ...sealed, pools };
}

/**
 * `(kept)` secrets with nothing stored to keep (LDAP bind passwords, TOTP secrets), read from
 * the raw document whatever its shape, so they are reported with the file's other problems.
 */
function keptSecretProblems(document: unknown, current: SiteConfig): ConfigProblem[] {
  const doc = (document ?? {}) as { authServers?: unknown; users?: unknown };
  const entries = (list: unknown) =>
    (Array.isArray(list) ? list : []).map((e: unknown) => (e ?? {}) as Record<string, unknown>);
  const named = <T extends { name: string }>(list: readonly T[], name: unknown): T | undefined =>
    typeof name === 'string'
      ? list.find((e) => e.name.toLowerCase() === name.trim().toLowerCase())
      : undefined;
  const problems: ConfigProblem[] = [];
  entries(doc.authServers).forEach((s, i) => {
    if (s.type !== 'ldap' || s.bindPassword !== KEPT_SECRET) return;
    const old = named(current.authServers, s.name);
    if (old?.type !== 'ldap' || old.bindPassword === undefined)
      problems.push({
        path: `authServers[${i}].bindPassword`,
        message: 'no stored bind password to keep',
      });
  });
  entries(doc.users).forEach((u, i) => {
    if (u.mfaSecret !== KEPT_SECRET) return;
    if (named(current.users, u.name)?.mfaSecret === undefined)
      problems.push({ path: `users[${i}].mfaSecret`, message: 'no stored TOTP secret to keep' });
  });
  return problems;
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
