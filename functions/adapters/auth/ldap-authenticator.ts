/**
 * LDAP and Active Directory authentication with `ldapts`: look the user up with the service
 * account, read their groups, then check their password with a bind as them. Connections are
 * reused between calls (./ldap-connections.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type Client, type Entry, Filter, ResultCodeError } from 'ldapts';
import { AuthServerUnavailableError, SecretUnavailableError } from '../../core/errors.ts';
import type { DirectoryAuthenticator, DirectoryUser } from '../../core/login/ports.ts';
import type { SecretOpener } from '../../core/secrets/ports.ts';
import type { LdapAuthServerConfig } from '../../core/site-config/schema.ts';
import {
  bindServiceAccount,
  closeClient,
  isStaleConnection,
  LdapConnections,
  newClient,
} from './ldap-connections.ts';

/** LDAP result code invalidCredentials (49): wrong password, unknown or (AD) disabled account. */
const INVALID_CREDENTIALS = 49;

/** Search attribute list that asks for no attributes (RFC 4511 §4.5.1.8). */
const NO_ATTRIBUTES = '1.1';

/**
 * {@link DirectoryAuthenticator} for LDAP servers (OpenLDAP, 389-ds, ...) and Active Directory.
 *
 * Every lookup (the user, their groups) runs as the configured service account
 * (`bindDn`/`bindPassword`, anonymous without one); the user's own bind, last, only checks
 * the password. Values put into the filters are escaped as RFC 4515 asks, so a login name
 * cannot change a filter's meaning.
 */
export class LdapAuthenticator implements DirectoryAuthenticator {
  /** Reused connections by server name, with a fingerprint of the configuration they were made for. */
  readonly #pools = new Map<string, { fingerprint: string; connections: LdapConnections }>();
  readonly #secrets: SecretOpener;
  readonly #idleMs: number | undefined;
  /** Keys the fingerprints: they never reveal a setting, even to someone reading memory dumps. */
  readonly #fingerprintKey = randomBytes(32);

  /**
   * @param secrets opens the stored (sealed) bind passwords, right before each bind.
   * @param options.idleMs how long unused connections stay open (default a minute).
   */
  constructor(secrets: SecretOpener, options: { idleMs?: number } = {}) {
    this.#secrets = secrets;
    this.#idleMs = options.idleMs;
  }

  /** The servers with reused connections now, as `name#fingerprint` (for tests and metrics). */
  pooledServers(): string[] {
    return [...this.#pools].map(([name, p]) => `${name}#${p.fingerprint}`);
  }

  /**
   * Signs `username` in against `server`.
   *
   * Resolves undefined, without contacting the server, for an empty password or username (an
   * empty password would be an unauthenticated bind, which some servers accept); undefined too
   * when `userFilter` finds no entry or more than one, or when the server rejects the password
   * (invalidCredentials). Otherwise resolves the user's DN and groups: the `groupAttribute` of
   * each entry under `groupBase` that `groupFilter` finds (when `groupBase` is set), plus the
   * CN of each `memberOf` value of the user entry (Active Directory, OpenLDAP's memberof
   * overlay); sorted, without duplicates.
   *
   * @throws {SecretUnavailableError} when the stored bind password cannot be opened here.
   * @throws {AuthServerUnavailableError} when the server does not answer within `timeoutMs`
   *   (per operation), refuses the connection, closes it, or cannot do its part: the service
   *   bind fails, a search fails, the user's bind fails for another reason than
   *   invalidCredentials. The original error is its `cause`.
   */
  async authenticate(
    server: LdapAuthServerConfig,
    username: string,
    password: string,
  ): Promise<DirectoryUser | undefined> {
    if (password.length === 0 || username.length === 0) return undefined;

    const connections = this.#connectionsFor(server);
    try {
      let lookup: { dn: string; groups: string[] } | undefined;
      try {
        lookup = await findUser(await connections.service(), server, username);
      } catch (e: unknown) {
        if (!isStaleConnection(e)) throw e;
        // The reused connection had died (server restarted): once more on a new one.
        await connections.dropService();
        lookup = await findUser(await connections.service(), server, username);
      }
      if (!lookup) return undefined;
      const { dn, groups } = lookup;
      try {
        await connections.withBinder((client) => client.bind(dn, password));
      } catch (e: unknown) {
        if (e instanceof ResultCodeError && e.code === INVALID_CREDENTIALS) return undefined;
        throw e;
      }
      return { dn, groups };
    } catch (e: unknown) {
      if (e instanceof SecretUnavailableError) throw e;
      if (!(e instanceof ResultCodeError)) await connections.dropService();
      throw new AuthServerUnavailableError(server.name, e);
    }
  }

  /**
   * Reused connections of one server, by its name. A changed configuration (address, service
   * account, timeout) closes the old connections at once and starts new ones; connections
   * unused for a minute close and are forgotten, so a removed server leaves nothing behind.
   */
  #connectionsFor(server: LdapAuthServerConfig): LdapConnections {
    const name = server.name.toLowerCase();
    const fingerprint = createHmac('sha256', this.#fingerprintKey)
      .update(JSON.stringify([server.url, server.bindDn, server.bindPassword, server.timeoutMs]))
      .digest('base64url')
      .slice(0, 22);
    const pooled = this.#pools.get(name);
    if (pooled?.fingerprint === fingerprint) return pooled.connections;
    if (pooled) void pooled.connections.close();
    const entry = {
      fingerprint,
      connections: new LdapConnections(server, this.#secrets, {
        idleMs: this.#idleMs,
        onIdle: () => {
          if (this.#pools.get(name) === entry) this.#pools.delete(name);
        },
      }),
    };
    this.#pools.set(name, entry);
    return entry.connections;
  }

  /** Closes every reused connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.connections.close()));
    this.#pools.clear();
  }

  /**
   * Resolves when `server` accepts a connection within `timeoutMs`: with a service account, a
   * bind as it succeeds; without one, the server answers a search of its root DSE (any LDAP
   * answer counts, even a refusal).
   *
   * @throws {AuthServerUnavailableError} when it does not (connection refused or closed,
   *   timeout, TLS failure, the service account's bind rejected). The original error is its
   *   `cause`.
   */
  async probe(server: LdapAuthServerConfig): Promise<void> {
    const client = newClient(server);
    try {
      if (server.bindDn !== undefined) {
        await bindServiceAccount(client, server, this.#secrets);
        return;
      }
      try {
        await client.search('', {
          scope: 'base',
          filter: '(objectClass=*)',
          attributes: [NO_ATTRIBUTES],
          timeLimit: timeLimitSeconds(server),
        });
      } catch (e: unknown) {
        if (!(e instanceof ResultCodeError)) throw e;
      }
    } catch (e: unknown) {
      if (e instanceof SecretUnavailableError) throw e;
      throw new AuthServerUnavailableError(server.name, e);
    } finally {
      await closeClient(client);
    }
  }
}

/** The user's entry (exactly one, else undefined) and groups, looked up as the service account. */
async function findUser(
  client: Client,
  server: LdapAuthServerConfig,
  username: string,
): Promise<{ dn: string; groups: string[] } | undefined> {
  const found = await client.search(server.userBase, {
    scope: 'sub',
    filter: substitute(server.userFilter, { username }),
    attributes: ['memberOf'],
    sizeLimit: 2,
    timeLimit: timeLimitSeconds(server),
  });
  if (found.searchEntries.length !== 1) return undefined;
  const entry = found.searchEntries[0]!;
  const dn = entry.dn;
  const groups = new Set<string>();
  for (const groupDn of attributeValues(entry, 'memberOf')) groups.add(firstRdnValue(groupDn));
  if (server.groupBase) {
    const result = await client.search(server.groupBase, {
      scope: 'sub',
      filter: substitute(server.groupFilter, { dn, username }),
      attributes: [server.groupAttribute],
      timeLimit: timeLimitSeconds(server),
    });
    for (const group of result.searchEntries) {
      for (const value of attributeValues(group, server.groupAttribute)) groups.add(value);
    }
  }
  return { dn, groups: [...groups].sort() };
}

/** Server-side search time limit: the client's own timeout, in whole seconds. */
function timeLimitSeconds(server: LdapAuthServerConfig): number {
  return Math.max(1, Math.ceil(server.timeoutMs / 1000));
}

/**
 * Replaces `{name}` placeholders in a filter template with RFC 4515-escaped values, in one pass,
 * so a value that contains another placeholder's text is not substituted again. Unknown
 * placeholders are left as they are.
 */
export function substitute(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    return value === undefined ? whole : Filter.escape(value);
  });
}

/** The values of an attribute of a search entry, matched without regard to case, as strings. */
function attributeValues(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  const out: string[] = [];
  for (const [key, raw] of Object.entries(entry)) {
    if (key === 'dn' || key.toLowerCase() !== wanted) continue;
    const values: (Buffer | string)[] = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
      if (text.length > 0) out.push(text);
    }
  }
  return out;
}

/**
 * The value of a DN's first RDN, unescaped (RFC 4514): `Engineers` for
 * `CN=Engineers,OU=Groups,DC=example,DC=org`. A DN whose first RDN is not `cn=...` is returned
 * whole, so that no group is silently dropped.
 */
export function firstRdnValue(dn: string): string {
  const equals = dn.indexOf('=');
  if (equals < 0 || dn.slice(0, equals).trim().toLowerCase() !== 'cn') return dn;
  const chars = Array.from(dn.slice(equals + 1).trimStart());
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let trailingSpaces = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === ',' || c === '+') break;
    if (c === '\\' && i + 1 < chars.length) {
      const hex = `${chars[i + 1]}${chars[i + 2] ?? ''}`;
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...encoder.encode(chars[i + 1]!));
        i += 1;
      }
      trailingSpaces = 0;
      continue;
    }
    bytes.push(...encoder.encode(c));
    trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
  }
  // Unescaped spaces before the separator belong to the separator, not to the value.
  return Buffer.from(bytes.slice(0, bytes.length - trailingSpaces)).toString('utf8');
}
