/**
 * The directory as the composition hands it out: {@link LdapAuthenticator} (and `ldapts`,
 * about 55 KB minified) is imported on the first LDAP sign-in or probe, so a Lambda whose
 * requests never reach an LDAP server (sites with local accounts only, `cb_version`) never
 * loads it. With the bundles' code splitting it is a chunk of its own.
 */
import type { DirectoryAuthenticator } from '../../core/login/ports.ts';
import type { SecretOpener } from '../../core/secrets/ports.ts';
import type { LdapAuthenticator } from './ldap-authenticator.ts';

/** A directory authenticator that can also close its reused connections. */
export interface ClosableDirectory extends DirectoryAuthenticator {
  /** Closes every reused connection (nothing to do when LDAP was never used). */
  close(): Promise<void>;
}

/**
 * An LDAP directory authenticator whose implementation loads on first use.
 * @param secrets opens the stored (sealed) bind passwords, right before each bind.
 */
export function lazyLdapDirectory(secrets: SecretOpener): ClosableDirectory {
  let ldap: Promise<LdapAuthenticator> | undefined;
  const load = () => {
    ldap ??= import('./ldap-authenticator.ts').then((m) => new m.LdapAuthenticator(secrets));
    return ldap;
  };
  return {
    authenticate: async (server, username, password) =>
      (await load()).authenticate(server, username, password),
    probe: async (server) => (await load()).probe(server),
    close: async () => {
      if (ldap) await (await ldap).close();
    },
  };
}
