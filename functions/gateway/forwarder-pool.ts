/**
 * The gateway's forwards spread over worker threads, so forwarding uses every CPU of the
 * task: each worker runs a {@link Forwarder} over its own share of the port range (ports
 * `from + i`, `from + i + n`, ...), and this pool routes each call to the right one: by key
 * for a forward it knows, by port for a requested port, else to the worker with the fewest
 * forwards. With one worker the forwarder runs in this thread.
 *
 * The worker entry is this same module (or, in the esbuild bundle, the bundle itself): it
 * runs as a shard when started with {@link SHARD_ROLE} in its workerData.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createLogger, type Logger } from '../adapters/logger.ts';
import { AppError, ServiceUnavailableError } from '../core/errors.ts';
import type { ForwardSpec, OpenForward } from '../core/gateways/ports.ts';
import { Forwarder, type ForwarderStats } from './forwarder.ts';

/** The gateway's table of forwards, whichever thread holds them. */
export interface ForwardTable {
  /** See {@link Forwarder.open}; the same errors. */
  open(spec: ForwardSpec): Promise<{ forward: OpenForward; created: boolean }>;
  /** Closes a forward and its connections; false for an unknown key. */
  close(key: string): Promise<boolean>;
  get(key: string): Promise<OpenForward | undefined>;
  /** Every open forward, by port. */
  list(): Promise<OpenForward[]>;
  stats(): Promise<ForwarderStats>;
  /** Closes every forward and refuses new ones. */
  stop(): Promise<void>;
}

/** workerData.role of a shard worker. */
export const SHARD_ROLE = 'deskbroker-forwarder-shard';

type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

interface ShardSettings {
  readonly bind: string;
  readonly portRange: { readonly from: number; readonly to: number };
  readonly idleSeconds: number;
  readonly connectTimeoutMs?: number;
  readonly logLevel: LogLevel;
}

interface ShardData {
  readonly role: typeof SHARD_ROLE;
  readonly index: number;
  readonly count: number;
  readonly settings: ShardSettings;
}

type Op =
  | { op: 'open'; spec: ForwardSpec }
  | { op: 'close'; key: string }
  | { op: 'get'; key: string }
  | { op: 'list' }
  | { op: 'stats' }
  | { op: 'stop' };

/** An error as it crosses threads: AppErrors keep their status and code. */
interface WireError {
  readonly app: boolean;
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

type FromShard =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError }
  | { event: 'closed'; key: string }
  | { event: 'ready' };

function toWire(e: unknown): WireError {
  if (e instanceof AppError)
    return { app: true, status: e.status, code: e.code, message: e.message };
  return {
    app: false,
    status: 500,
    code: 'internal_error',
    message: e instanceof Error ? e.message : String(e),
  };
}

function fromWire(w: WireError): Error {
  // Internal errors stay plain Errors, so the control API logs them and shows nothing.
  return w.app ? new AppError(w.status, w.code, w.message) : new Error(w.message);
}

/** Runs one operation on a forwarder in this thread. */
async function perform(forwarder: Forwarder, op: Op): Promise<unknown> {
  switch (op.op) {
    case 'open':
      return forwarder.open(op.spec);
    case 'close':
      return forwarder.close(op.key);
    case 'get':
      return forwarder.get(op.key);
    case 'list':
      return forwarder.list();
    case 'stats':
      return forwarder.stats();
    case 'stop':
      return forwarder.stop();
  }
}

interface Shard {
  call(op: Op): Promise<unknown>;
  terminate(): Promise<void>;
}

function localShard(forwarder: Forwarder): Shard {
  return {
    call: (op) => perform(forwarder, op),
    terminate: async () => {},
  };
}

function workerShard(
  data: ShardData,
  onClosed: (key: string) => void,
  onFatal: (error: Error) => void,
): Promise<Shard> {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let stopping = false;
  let ready: (() => void) | undefined;
  let failedEarly: ((e: Error) => void) | undefined;

  const fail = (error: Error) => {
    for (const { reject } of pending.values()) {
      reject(new ServiceUnavailableError('gateway_shard_failed', 'a forwarding worker stopped'));
    }
    pending.clear();
    if (failedEarly) failedEarly(error);
    else if (!stopping) onFatal(error);
  };

  worker.on('message', (message: FromShard) => {
    if ('event' in message) {
      if (message.event === 'ready') {
        failedEarly = undefined;
        ready?.();
      } else onClosed(message.key);
      return;
    }
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(fromWire(message.error));
  });
  worker.on('error', (e: Error) => fail(e));
  worker.on('exit', (code) => {
    if (!stopping || pending.size > 0)
      fail(new Error(`forwarding worker ${data.index} exited (${code})`));
  });

  const shard: Shard = {
    call(op) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, op });
      });
    },
    async terminate() {
      stopping = true;
      await worker.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    ready = () => resolve(shard);
    failedEarly = reject;
  });
}

/** The shard side: a forwarder answering the pool's calls. */
function runShard(data: ShardData): void {
  const port = parentPort!;
  const forwarder = new Forwarder({
    ...data.settings,
    logger: createLogger('deskbroker-gateway', data.settings.logLevel),
    shard: { index: data.index, count: data.count },
    onClosed: (key) => port.postMessage({ event: 'closed', key } satisfies FromShard),
  });
  port.on('message', (message: { id: number; op: Op }) => {
    perform(forwarder, message.op).then(
      (value) => port.postMessage({ id: message.id, ok: true, value } satisfies FromShard),
      (e: unknown) =>
        port.postMessage({ id: message.id, ok: false, error: toWire(e) } satisfies FromShard),
    );
  });
  port.postMessage({ event: 'ready' } satisfies FromShard);
}

if (!isMainThread && (workerData as Partial<ShardData> | null)?.role === SHARD_ROLE) {
  runShard(workerData as ShardData);
}

export interface ForwarderPoolOptions extends ShardSettings {
  /** Worker threads; 1 runs the forwarder in this thread. */
  readonly workers: number;
  /** Logger for the in-thread forwarder (workers make their own at `logLevel`). */
  readonly logger: Logger;
  /** Called when a worker dies unexpectedly: its forwards are gone. */
  readonly onFatal?: (error: Error) => void;
}

/** The forwards of one gateway, over one or more threads. */
export class ForwarderPool implements ForwardTable {
  readonly #shards: Shard[];
  readonly #range: { readonly from: number; readonly to: number };
  readonly #forwardsOf: number[];
  readonly #shardOf = new Map<string, number>();
  readonly #pending = new Map<string, Promise<unknown>>();

  private constructor(shards: Shard[], range: { from: number; to: number }) {
    this.#shards = shards;
    this.#range = range;
    this.#forwardsOf = shards.map(() => 0);
  }

  /** Number of threads forwarding. */
  get workers(): number {
    return this.#shards.length;
  }

  /**
   * Starts the workers (or the in-thread forwarder) and resolves when all are ready.
   * @throws when a worker cannot start.
   */
  static async start(options: ForwarderPoolOptions): Promise<ForwarderPool> {
    const { workers, logger, onFatal, ...settings } = options;
    const count = Math.max(
      1,
      Math.min(workers, settings.portRange.to - settings.portRange.from + 1),
    );
    let pool: ForwarderPool | undefined;
    const onClosed = (index: number) => (key: string) => {
      if (pool) pool.#forgetClosed(index, key);
    };
    const fatal = (error: Error) => {
      logger.error('a forwarding worker stopped; its forwards are lost', { error });
      onFatal?.(error);
    };
    if (count === 1) {
      const forwarder = new Forwarder({ ...settings, logger, onClosed: onClosed(0) });
      pool = new ForwarderPool([localShard(forwarder)], settings.portRange);
      return pool;
    }
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, index) =>
        workerShard(
          { role: SHARD_ROLE, index, count, settings },
          (key) => onClosed(index)(key),
          fatal,
        ),
      ),
    );
    const shards = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r) => r.status === 'rejected');
    if (failure) {
      await Promise.all(shards.map((s) => s.terminate()));
      throw (failure as PromiseRejectedResult).reason;
    }
    pool = new ForwarderPool(shards, settings.portRange);
    return pool;
  }

  #forgetClosed(index: number, key: string): void {
    if (this.#shardOf.get(key) !== index) return;
    this.#shardOf.delete(key);
    this.#forwardsOf[index]!--;
  }

  /** Runs calls for one key one after another. */
  #serial<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const result = previous.then(run, run);
    const settled = result.catch(() => undefined);
    this.#pending.set(key, settled);
    void settled.then(() => {
      if (this.#pending.get(key) === settled) this.#pending.delete(key);
    });
    return result;
  }

  async #openOn(index: number, spec: ForwardSpec) {
    const result = (await this.#shards[index]!.call({ op: 'open', spec })) as {
      forward: OpenForward;
      created: boolean;
    };
    if (result.created) {
      this.#shardOf.set(spec.key, index);
      this.#forwardsOf[index]!++;
    }
    return result;
  }

  open(spec: ForwardSpec): Promise<{ forward: OpenForward; created: boolean }> {
    return this.#serial(spec.key, async () => {
      const known = this.#shardOf.get(spec.key);
      if (known !== undefined) return this.#openOn(known, spec);
      const { from, to } = this.#range;
      if (spec.listenPort !== undefined) {
        const inRange = spec.listenPort >= from && spec.listenPort <= to;
        // Out of range: any shard refuses it the same way.
        return this.#openOn(inRange ? (spec.listenPort - from) % this.#shards.length : 0, spec);
      }
      const order = this.#shards
        .map((_, i) => i)
        .sort((a, b) => this.#forwardsOf[a]! - this.#forwardsOf[b]!);
      let exhausted: unknown;
      for (const index of order) {
        try {
          return await this.#openOn(index, spec);
        } catch (e: unknown) {
          if (!(e instanceof AppError && e.code === 'gateway_ports_exhausted')) throw e;
          exhausted = e;
        }
      }
      throw exhausted instanceof AppError
        ? new ServiceUnavailableError(
            'gateway_ports_exhausted',
            `no free port left in ${from}-${to}`,
          )
        : exhausted;
    });
  }

  close(key: string): Promise<boolean> {
    return this.#serial(key, async () => {
      const index = this.#shardOf.get(key);
      if (index === undefined) return false;
      return (await this.#shards[index]!.call({ op: 'close', key })) as boolean;
    });
  }

  async get(key: string): Promise<OpenForward | undefined> {
    const index = this.#shardOf.get(key);
    if (index === undefined) return undefined;
    return (await this.#shards[index]!.call({ op: 'get', key })) as OpenForward | undefined;
  }

  async list(): Promise<OpenForward[]> {
    const lists = (await Promise.all(
      this.#shards.map((s) => s.call({ op: 'list' })),
    )) as OpenForward[][];
    return lists.flat().sort((a, b) => a.listenPort - b.listenPort);
  }

  async stats(): Promise<ForwarderStats> {
    const all = (await Promise.all(
      this.#shards.map((s) => s.call({ op: 'stats' })),
    )) as ForwarderStats[];
    const sum = (pick: (s: ForwarderStats) => number) => all.reduce((n, s) => n + pick(s), 0);
    return {
      forwards: sum((s) => s.forwards),
      connections: sum((s) => s.connections),
      accepted: sum((s) => s.accepted),
      refused: sum((s) => s.refused),
      bytesFromClients: sum((s) => s.bytesFromClients),
      bytesToClients: sum((s) => s.bytesToClients),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#shards.map(async (s) => {
        await s.call({ op: 'stop' }).catch(() => undefined);
        await s.terminate();
      }),
    );
  }
}
