/**
 * Reused LDAP connections, per server configuration: one connection bound as the service
 * account for the lookups (ldapts multiplexes concurrent operations on it by message id), and
 * a few connections for the users' own binds, each used by one bind at a time. Reuse saves a
 * TCP connect and a service bind on every login. Idle connections close after a minute.
 *
 * The service account's bind password is stored sealed: it is opened right before each bind
 * and not kept.
 */
import { Client, ResultCodeError } from 'ldapts';
import type { SecretOpener } from '../../core/secrets/ports.ts';
import type { LdapAuthServerConfig } from '../../core/site-config/schema.ts';

/** Default time after which unused connections close. */
export const IDLE_MS = 60_000;
const MAX_IDLE_BINDERS = 8;

export function newClient(server: LdapAuthServerConfig): Client {
  return new Client({
    url: server.url,
    connectTimeout: server.timeoutMs,
    timeout: server.timeoutMs,
  });
}

export async function closeClient(client: Client): Promise<void> {
  try {
    await client.unbind();
  } catch {
    // Gone already (timeout, server closed it): nothing to release.
  }
}

/** A failure of the connection itself (not an LDAP answer, not a timeout): worth one retry. */
export function isStaleConnection(e: unknown): boolean {
  if (e instanceof ResultCodeError) return false;
  const message = e instanceof Error ? e.message : String(e);
  return /Connection closed|Socket connection not established|ECONNRESET|EPIPE|socket hang up/i.test(
    message,
  );
}

/** Binds as the server's service account (anonymous without a bind DN), opening its password. */
export async function bindServiceAccount(
  client: Client,
  server: LdapAuthServerConfig,
  secrets: SecretOpener,
): Promise<void> {
  if (server.bindDn === undefined) return;
  const password = server.bindPassword === undefined ? '' : await secrets.open(server.bindPassword);
  await client.bind(server.bindDn, password);
}

export class LdapConnections {
  readonly #server: LdapAuthServerConfig;
  readonly #secrets: SecretOpener;
  readonly #idleMs: number;
  readonly #onIdle: () => void;
  #service: Promise<Client> | undefined;
  readonly #binders: Client[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `onIdle` runs when the connections closed after `idleMs` unused (the owner forgets them). */
  constructor(
    server: LdapAuthServerConfig,
    secrets: SecretOpener,
    options: { idleMs?: number; onIdle?: () => void } = {},
  ) {
    this.#server = server;
    this.#secrets = secrets;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    this.#onIdle = options.onIdle ?? (() => {});
  }

  /** The service connection, bound (again, after a reconnect) when the server has a bind DN. */
  service(): Promise<Client> {
    this.#touch();
    const current = this.#service;
    if (current) {
      return current.then((client) =>
        this.#needsBind(client) ? this.#bindService(client) : client,
      );
    }
    const created = this.#bindService(newClient(this.#server));
    this.#service = created;
    created.catch(() => {
      if (this.#service === created) this.#service = undefined;
    });
    return created;
  }

  /** Drops the service connection (after it failed); the next call makes a new one. */
  async dropService(): Promise<void> {
    const current = this.#service;
    this.#service = undefined;
    if (current) await current.then(closeClient, () => {});
  }

  /** Runs `fn` on a connection of its own; the connection goes back to the pool if it stays healthy. */
  async withBinder<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    this.#touch();
    const client = this.#binders.pop() ?? newClient(this.#server);
    try {
      const result = await fn(client);
      if (this.#binders.length < MAX_IDLE_BINDERS) this.#binders.push(client);
      else await closeClient(client);
      return result;
    } catch (e: unknown) {
      // A rejected password leaves a healthy connection; anything else, start afresh.
      if (e instanceof ResultCodeError && this.#binders.length < MAX_IDLE_BINDERS)
        this.#binders.push(client);
      else await closeClient(client);
      throw e;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.dropService();
    await Promise.all(this.#binders.splice(0).map(closeClient));
  }

  #needsBind(client: Client): boolean {
    return this.#server.bindDn !== undefined && !client.isBound;
  }

  async #bindService(client: Client): Promise<Client> {
    await bindServiceAccount(client, this.#server, this.#secrets);
    return client;
  }

  #touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#onIdle();
      void this.close();
    }, this.#idleMs);
    this.#timer.unref();
  }
}
