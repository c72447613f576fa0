/**
 * Who is signing in: the built-in administrator, a local account, or a directory user.
 * Authentication servers are tried in their configured order (or only the one named);
 * the first that knows the user decides. (The login use case pads every failure to the same
 * duration, so an unknown user cannot be told from a wrong password by timing.)
 */
import { AuthServerUnavailableError, UnauthorizedError } from '../errors.ts';
import type { SiteConfig } from '../site-config/schema.ts';
import type { AccountStore, DirectoryAuthenticator, PasswordHasher } from './ports.ts';
import { BUILTIN_ADMIN } from './sessions.ts';

export interface Identity {
  readonly user: string;
  /** The authentication server that vouched for the user (`built-in` for the admin). */
  readonly authServer: string;
  readonly groups: readonly string[];
  readonly mfaSecret: string | null;
  readonly builtinAdmin: boolean;
}

export interface AuthDeps {
  readonly accounts: AccountStore;
  readonly hasher: PasswordHasher;
  readonly directory: DirectoryAuthenticator;
}

export const invalidCredentials = () =>
  new UnauthorizedError('invalid_credentials', 'wrong user name or password');

/**
 * Authenticates a user.
 * @throws {UnauthorizedError} `invalid_credentials` for an unknown user or a wrong password.
 * @throws {UnauthorizedError} `unknown_auth_server` when the named server does not exist.
 * @throws {AuthServerUnavailableError} when no server could answer and one was unreachable.
 */
export async function authenticate(
  deps: AuthDeps,
  config: SiteConfig,
  input: { username: string; password: string; authServer?: string },
): Promise<Identity> {
  const { username, password } = input;
  if (input.authServer === undefined && username.toLowerCase() === BUILTIN_ADMIN) {
    const admin = await deps.accounts.findBuiltinAdmin();
    if (admin?.passwordHash && (await deps.hasher.verify(admin.passwordHash, password))) {
      return {
        user: admin.name,
        authServer: 'built-in',
        groups: [],
        mfaSecret: null,
        builtinAdmin: true,
      };
    }
    if (admin) throw invalidCredentials();
  }

  const servers = config.authServers.filter((s) => s.enabled);
  const chosen =
    input.authServer === undefined
      ? servers
      : servers.filter((s) => s.name.toLowerCase() === input.authServer!.toLowerCase());
  if (input.authServer !== undefined && chosen.length === 0) {
    throw new UnauthorizedError(
      'unknown_auth_server',
      `there is no authentication server "${input.authServer}"`,
    );
  }

  let unavailable: AuthServerUnavailableError | undefined;
  for (const server of chosen) {
    if (server.type === 'local') {
      const account = await deps.accounts.findLocalAccount(username, server.name);
      if (!account) continue;
      if (account.passwordHash && (await deps.hasher.verify(account.passwordHash, password))) {
        return {
          user: account.name,
          authServer: server.name,
          groups: account.groups,
          mfaSecret: account.mfaSecret,
          builtinAdmin: false,
        };
      }
      // The account exists here: a wrong password ends the search.
      throw invalidCredentials();
    }
    try {
      const found = await deps.directory.authenticate(server, username, password);
      if (found) {
        return {
          user: username,
          authServer: server.name,
          groups: found.groups,
          mfaSecret: null,
          builtinAdmin: false,
        };
      }
    } catch (e: unknown) {
      if (!(e instanceof AuthServerUnavailableError)) throw e;
      unavailable ??= e;
    }
  }
  if (unavailable) throw unavailable;
  throw invalidCredentials();
}
