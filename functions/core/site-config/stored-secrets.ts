/**
 * The secrets a site configuration holds (LDAP bind passwords, TOTP secrets) between the file
 * and the site database: apply seals them (envelope encryption, see core/secrets/ports.ts);
 * export writes {@link KEPT_SECRET} in their place, which apply reads as "keep the stored
 * value", so export → apply round-trips without a secret ever leaving the broker.
 */
import { SecretUnavailableError } from '../errors.ts';
import type { SecretBox } from '../secrets/ports.ts';
import { KEPT_SECRET, type SiteConfig } from './schema.ts';

interface Problem {
  path: string;
  message: string;
}

/**
 * The value to store for one secret of the file: the stored (sealed) value when the file says
 * `(kept)` or gives the value already stored (so apply stays idempotent), else the new value
 * sealed. A clear value stored before encryption is sealed now.
 */
async function storedValue(
  box: SecretBox,
  given: string | undefined,
  stored: string | undefined,
  problem: () => Problem,
  problems: Problem[],
): Promise<string | undefined> {
  if (given === undefined) return undefined;
  if (given === KEPT_SECRET) {
    if (stored === undefined) {
      problems.push(problem());
      return undefined;
    }
    return box.isSealed(stored) ? stored : box.seal(stored);
  }
  if (stored !== undefined && box.isSealed(stored)) {
    const same = await box.open(stored).then(
      (clear) => clear === given,
      (e: unknown) => {
        // A key this broker lacks: the file's value replaces it.
        if (e instanceof SecretUnavailableError) return false;
        throw e;
      },
    );
    if (same) return stored;
  }
  return box.seal(given);
}

/**
 * Seals the bind passwords and TOTP secrets of `config`, keeping `current`'s stored values
 * where the file says `(kept)` or repeats them.
 * @throws {SecretUnavailableError} when the key cannot be reached.
 * Problems (a `(kept)` with nothing stored) are added to `problems`, each with its path.
 */
export async function sealSecrets(
  config: SiteConfig,
  current: SiteConfig,
  box: SecretBox,
  problems: Problem[],
): Promise<Pick<SiteConfig, 'authServers' | 'users'>> {
  const currentServers = new Map(current.authServers.map((s) => [s.name.toLowerCase(), s]));
  const authServers = await Promise.all(
    config.authServers.map(async (server, i) => {
      if (server.type !== 'ldap') return server;
      const old = currentServers.get(server.name.toLowerCase());
      const bindPassword = await storedValue(
        box,
        server.bindPassword,
        old?.type === 'ldap' ? old.bindPassword : undefined,
        () => ({
          path: `authServers[${i}].bindPassword`,
          message: 'no stored bind password to keep',
        }),
        problems,
      );
      return { ...server, bindPassword };
    }),
  );
  const currentUsers = new Map(current.users.map((u) => [u.name.toLowerCase(), u]));
  const users = await Promise.all(
    config.users.map(async (user, i) => {
      const mfaSecret = await storedValue(
        box,
        user.mfaSecret,
        currentUsers.get(user.name.toLowerCase())?.mfaSecret,
        () => ({ path: `users[${i}].mfaSecret`, message: 'no stored TOTP secret to keep' }),
        problems,
      );
      return mfaSecret === undefined ? omit(user, 'mfaSecret') : { ...user, mfaSecret };
    }),
  );
  return { authServers, users };
}

/** The configuration as export shows it: every stored secret replaced by `(kept)`. */
export function redactSecrets(config: SiteConfig): SiteConfig {
  return {
    ...config,
    authServers: config.authServers.map((s) =>
      s.type === 'ldap' && s.bindPassword !== undefined ? { ...s, bindPassword: KEPT_SECRET } : s,
    ),
    users: config.users.map((u) =>
      u.mfaSecret !== undefined ? { ...u, mfaSecret: KEPT_SECRET } : u,
    ),
  };
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}
