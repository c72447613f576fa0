/**
 * The sign-in side of the composition: sessions, the directory (LDAP, loaded on first use),
 * local accounts and their hashes, the secret box, failed-login throttling, and the health
 * probes (which probe the directory).
 */
import { type ClosableDirectory, lazyLdapDirectory } from '../adapters/auth/lazy-directory.ts';
import { Argon2PasswordHasher } from '../adapters/auth/password-hasher.ts';
import { createSecretBox } from '../adapters/encryption/secret-box.ts';
import { createHealthProbes } from '../adapters/health-probes.ts';
import { SqlAccountStore } from '../adapters/site-db/account-store.ts';
import { DynamoSessionStore } from '../adapters/state/session-store.ts';
import { DynamoThrottleStore } from '../adapters/state/throttle-store.ts';
import type { HealthProbes } from '../core/health.ts';
import type {
  AccountStore,
  PasswordHasher,
  SessionStore,
  ThrottleStore,
} from '../core/login/ports.ts';
import type { SessionLimits } from '../core/login/sessions.ts';
import type { SecretBox } from '../core/secrets/ports.ts';
import type { BrokerBase } from './base.ts';

/** Sessions (the state table): what every session-checked endpoint needs. */
export interface SessionParts {
  readonly sessions: SessionStore;
  readonly sessionLimits: SessionLimits;
}

export function composeSessions(base: BrokerBase): SessionParts {
  return {
    sessions: new DynamoSessionStore(base.state, base.config.sessions, base.clock),
    sessionLimits: base.config.sessions,
  };
}

/** The directory and the secret box that opens its bind passwords. */
export interface DirectoryParts {
  /** Seals and opens stored secrets (LDAP bind passwords, TOTP secrets). */
  readonly secrets: SecretBox;
  readonly directory: ClosableDirectory;
}

export function composeDirectory(base: BrokerBase): DirectoryParts {
  const secrets = createSecretBox(base.config.secretsKey);
  return { secrets, directory: lazyLdapDirectory(secrets) };
}

/** What signing in needs besides sessions and the directory. */
export interface LoginParts {
  readonly accounts: AccountStore;
  readonly hasher: PasswordHasher;
  readonly throttle: ThrottleStore;
}

export function composeLogin(base: BrokerBase): LoginParts {
  return {
    accounts: new SqlAccountStore(base.site.db),
    hasher: new Argon2PasswordHasher(),
    throttle: new DynamoThrottleStore(base.state),
  };
}

/** The health queries' probes. */
export interface HealthParts {
  readonly health: HealthProbes;
}

export function composeHealth(base: BrokerBase, directory: DirectoryParts): HealthParts {
  return {
    health: createHealthProbes(base.site.db, directory.directory, base.options.loadAverage),
  };
}
