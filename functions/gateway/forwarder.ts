/**
 * TCP port forwards: each forward listens on one port of the gateway's range and pipes every
 * connection from the one allowed client IP to the desktop's host:port. Connections from any
 * other address are reset at accept. Streams are piped with `stream.pipeline` both ways
 * (back-pressure, half-close); nothing buffers a whole stream.
 *
 * A forward closes (its listener and every connection through it) when removed, or when it
 * expires. A connection without traffic for the forward's idle limit is closed; the forward
 * stays open.
 */
import { BlockList, connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from '../adapters/logger.ts';
import { BadRequestError, ConflictError, ServiceUnavailableError } from '../core/errors.ts';
import type { ForwarderStats } from '../core/gateways/control-contract.ts';
import type { ForwardSpec, OpenForward } from '../core/gateways/ports.ts';
import { normalizeIp } from '../core/ip-range.ts';

export type { ForwarderStats };

export interface ForwarderOptions {
  /** Address the forwards listen on. */
  readonly bind: string;
  readonly portRange: { readonly from: number; readonly to: number };
  /** Idle limit for connections of forwards that do not set their own. */
  readonly idleSeconds: number;
  /** How long a new connection waits for the desktop to accept; default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly logger: Logger;
  /** Epoch ms; default Date.now. Expiry timers still run on real time. */
  readonly now?: () => number;
  /**
   * This forwarder's share of the range when several run side by side (one per worker
   * thread): it picks free ports only among `from + index + k × count`.
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Called after a forward has closed, whatever the reason (removed, expired, stopping). */
  readonly onClosed?: (key: string) => void;
}

interface Connection {
  readonly client: Socket;
  readonly upstream: Socket;
}

interface Forward {
  spec: ForwardSpec & { listenPort: number };
  readonly clientIp: string;
  readonly allow: BlockList;
  readonly server: Server;
  readonly connections: Set<Connection>;
  timer: NodeJS.Timeout | undefined;
  closing: boolean;
}

/** Longest delay setTimeout accepts; longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true, backlog: 511 });
  });
}

/** The gateway's port forwards. One per process. */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #forwards = new Map<string, Forward>();
  /** Ports held by a forward or being opened. */
  readonly #ports = new Set<number>();
  /** Per-key queue, so two opens of one key never race. */
  readonly #pending = new Map<string, Promise<unknown>>();
  #cursor: number;
  #stopped = false;
  #accepted = 0;
  #refused = 0;
  #liveConnections = 0;
  #closedBytesFromClients = 0;
  #closedBytesToClients = 0;

  constructor(options: ForwarderOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#cursor = options.portRange.from + (options.shard?.index ?? 0);
  }

  /**
   * Opens a forward, or re-opens it: the same key again returns the forward already open on
   * its port, with the new expiry and idle limit. `created` says which.
   * @throws {BadRequestError} `forward_expired`, `port_out_of_range`, `invalid_client_ip`.
   * @throws {ConflictError} `forward_conflict` (same key, other desktop, client or port),
   *   `port_in_use` (the requested port is taken).
   * @throws {ServiceUnavailableError} `gateway_ports_exhausted`, `gateway_stopping`.
   */
  open(spec: ForwardSpec): Promise<{ forward: OpenForward; created: boolean }> {
    const previous = this.#pending.get(spec.key) ?? Promise.resolve();
    const run = previous.then(
      () => this.#open(spec),
      () => this.#open(spec),
    );
    const settled = run.catch(() => undefined);
    this.#pending.set(spec.key, settled);
    void settled.then(() => {
      if (this.#pending.get(spec.key) === settled) this.#pending.delete(spec.key);
    });
    return run;
  }

  async #open(spec: ForwardSpec): Promise<{ forward: OpenForward; created: boolean }> {
    if (this.#stopped)
      throw new ServiceUnavailableError('gateway_stopping', 'the gateway is stopping');
    if (spec.expiresAt <= this.#now()) {
      throw new BadRequestError('forward_expired', `forward ${spec.key} has already expired`);
    }
    const clientIp = normalizeIp(spec.clientIp);
    const ipVersion = isIP(clientIp);
    if (ipVersion === 0) {
      throw new BadRequestError('invalid_client_ip', `"${spec.clientIp}" is not an IP address`);
    }
    const existing = this.#forwards.get(spec.key);
    if (existing) return { forward: this.#reopen(existing, spec, clientIp), created: false };

    const { from, to } = this.#options.portRange;
    if (spec.listenPort !== undefined && (spec.listenPort < from || spec.listenPort > to)) {
      throw new BadRequestError(
        'port_out_of_range',
        `port ${spec.listenPort} is outside this gateway's range ${from}-${to}`,
      );
    }
    const allow = new BlockList();
    allow.addAddress(clientIp, ipVersion === 4 ? 'ipv4' : 'ipv6');
    const forward: Forward = {
      spec: { ...spec, clientIp, listenPort: 0 },
      clientIp,
      allow,
      server: createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        this.#accept(forward, socket),
      ),
      connections: new Set(),
      timer: undefined,
      closing: false,
    };
    const port =
      spec.listenPort === undefined
        ? await this.#listenAnyPort(forward.server, spec.key)
        : await this.#listenOn(forward.server, spec.listenPort);
    forward.spec = { ...forward.spec, listenPort: port };
    forward.server.on('error', (e: unknown) => {
      this.#log.error('forward listener failed', { key: spec.key, port, error: e });
    });
    if (this.#stopped) {
      forward.server.close();
      this.#ports.delete(port);
      throw new ServiceUnavailableError('gateway_stopping', 'the gateway is stopping');
    }
    this.#forwards.set(spec.key, forward);
    this.#schedule(forward);
    this.#log.info('forward opened', {
      key: spec.key,
      port,
      desktop: `${spec.desktopHost}:${spec.desktopPort}`,
      clientIp,
      expiresAt: new Date(spec.expiresAt).toISOString(),
    });
    return { forward: this.#describe(forward), created: true };
  }

  #reopen(forward: Forward, spec: ForwardSpec, clientIp: string): OpenForward {
    const current = forward.spec;
    if (
      current.desktopHost !== spec.desktopHost ||
      current.desktopPort !== spec.desktopPort ||
      forward.clientIp !== clientIp ||
      (spec.listenPort !== undefined && spec.listenPort !== current.listenPort)
    ) {
      throw new ConflictError(
        'forward_conflict',
        `forward ${spec.key} is already open to another desktop, client or port`,
      );
    }
    forward.spec = { ...current, expiresAt: spec.expiresAt, idleSeconds: spec.idleSeconds };
    const idleMs = this.#idleMs(forward);
    for (const c of forward.connections) c.client.setTimeout(idleMs);
    this.#schedule(forward);
    return this.#describe(forward);
  }

  async #listenOn(server: Server, port: number): Promise<number> {
    if (this.#ports.has(port)) {
      throw new ConflictError('port_in_use', `port ${port} is already forwarded`);
    }
    this.#ports.add(port);
    try {
      await listen(server, port, this.#options.bind);
      return port;
    } catch (e: unknown) {
      this.#ports.delete(port);
      if (errorCode(e) === 'EADDRINUSE') {
        throw new ConflictError('port_in_use', `port ${port} is in use on this gateway`);
      }
      throw e;
    }
  }

  /**
   * Tries this forwarder's ports round-robin from a moving cursor, so a closed port is not
   * reused at once.
   */
  async #listenAnyPort(server: Server, key: string): Promise<number> {
    const { from, to } = this.#options.portRange;
    const step = this.#options.shard?.count ?? 1;
    const first = from + (this.#options.shard?.index ?? 0);
    const size = first > to ? 0 : Math.floor((to - first) / step) + 1;
    for (let tried = 0; tried < size; tried++) {
      const port = this.#cursor;
      this.#cursor = port + step > to ? first : port + step;
      if (this.#ports.has(port)) continue;
      this.#ports.add(port);
      try {
        await listen(server, port, this.#options.bind);
        return port;
      } catch (e: unknown) {
        this.#ports.delete(port);
        const code = errorCode(e);
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw e;
        this.#log.debug('port taken, trying the next', { key, port, code });
      }
    }
    throw new ServiceUnavailableError(
      'gateway_ports_exhausted',
      `no free port left in ${from}-${to}`,
    );
  }

  #idleMs(forward: Forward): number {
    return (forward.spec.idleSeconds ?? this.#options.idleSeconds) * 1000;
  }

  #accept(forward: Forward, client: Socket): void {
    const remote = normalizeIp(client.remoteAddress ?? '');
    const version = isIP(remote);
    if (
      forward.closing ||
      version === 0 ||
      !forward.allow.check(remote, version === 4 ? 'ipv4' : 'ipv6')
    ) {
      this.#refused++;
      this.#log.warn('connection refused: not the forward client', {
        key: forward.spec.key,
        port: forward.spec.listenPort,
        remote,
        allowed: forward.clientIp,
      });
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    this.#accepted++;
    this.#liveConnections++;
    const { desktopHost, desktopPort, key } = forward.spec;
    const upstream = connect({
      host: desktopHost,
      port: desktopPort,
      allowHalfOpen: true,
      noDelay: true,
    });
    const connection: Connection = { client, upstream };
    forward.connections.add(connection);

    const kill = (why: string, e?: unknown) => {
      if (!client.destroyed || !upstream.destroyed) {
        this.#log.debug('connection closed', { key, why, error: e });
      }
      client.destroy();
      upstream.destroy();
    };
    client.on('error', (e) => kill('client error', e));
    upstream.on('error', (e) => kill('desktop error', e));

    // Until the desktop accepts, the connect timeout applies; then the idle limit (on the
    // client socket, which sees traffic of both directions).
    upstream.setTimeout(this.#options.connectTimeoutMs ?? 10_000);
    upstream.once('timeout', () => kill('desktop did not accept in time'));
    upstream.once('connect', () => upstream.setTimeout(0));
    client.setTimeout(this.#idleMs(forward));
    client.on('timeout', () => kill('idle'));

    pipeline(client, upstream, (e) => {
      if (e) kill('client to desktop', e);
    });
    pipeline(upstream, client, (e) => {
      if (e) kill('desktop to client', e);
    });

    let closed = 0;
    const onClose = () => {
      if (++closed < 2) return;
      forward.connections.delete(connection);
      this.#liveConnections--;
      this.#closedBytesFromClients += client.bytesRead;
      this.#closedBytesToClients += client.bytesWritten;
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
  }

  #schedule(forward: Forward): void {
    clearTimeout(forward.timer);
    const delay = forward.spec.expiresAt - this.#now();
    if (delay <= 0) {
      void this.#close(forward, 'expired');
      return;
    }
    forward.timer = setTimeout(() => this.#schedule(forward), Math.min(delay, MAX_TIMER_MS));
    forward.timer.unref();
  }

  async #close(forward: Forward, why: string): Promise<void> {
    if (forward.closing) return;
    forward.closing = true;
    clearTimeout(forward.timer);
    if (this.#forwards.get(forward.spec.key) === forward) this.#forwards.delete(forward.spec.key);
    const closed = new Promise<void>((resolve) => forward.server.close(() => resolve()));
    for (const c of forward.connections) {
      c.client.destroy();
      c.upstream.destroy();
    }
    await closed;
    this.#ports.delete(forward.spec.listenPort);
    this.#log.info('forward closed', {
      key: forward.spec.key,
      port: forward.spec.listenPort,
      why,
    });
    this.#options.onClosed?.(forward.spec.key);
  }

  /** Closes a forward and its connections. Resolves false for an unknown key. */
  async close(key: string): Promise<boolean> {
    await this.#pending.get(key);
    const forward = this.#forwards.get(key);
    if (!forward) return false;
    await this.#close(forward, 'removed');
    return true;
  }

  /** The forward open under `key`, if any. */
  get(key: string): OpenForward | undefined {
    const forward = this.#forwards.get(key);
    return forward && this.#describe(forward);
  }

  /** Every open forward, by port. */
  list(): OpenForward[] {
    return [...this.#forwards.values()]
      .map((f) => this.#describe(f))
      .sort((a, b) => a.listenPort - b.listenPort);
  }

  stats(): ForwarderStats {
    let liveFrom = 0;
    let liveTo = 0;
    for (const f of this.#forwards.values()) {
      for (const c of f.connections) {
        liveFrom += c.client.bytesRead;
        liveTo += c.client.bytesWritten;
      }
    }
    return {
      forwards: this.#forwards.size,
      connections: this.#liveConnections,
      accepted: this.#accepted,
      refused: this.#refused,
      bytesFromClients: this.#closedBytesFromClients + liveFrom,
      bytesToClients: this.#closedBytesToClients + liveTo,
    };
  }

  /** Closes every forward and refuses new ones. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#pending.values()]);
    await Promise.all([...this.#forwards.values()].map((f) => this.#close(f, 'gateway stopping')));
  }

  #describe(forward: Forward): OpenForward {
    const { spec } = forward;
    return {
      key: spec.key,
      listenPort: spec.listenPort,
      desktopHost: spec.desktopHost,
      desktopPort: spec.desktopPort,
      clientIp: spec.clientIp,
      expiresAt: spec.expiresAt,
      ...(spec.idleSeconds === undefined ? {} : { idleSeconds: spec.idleSeconds }),
      connections: forward.connections.size,
    };
  }
}
