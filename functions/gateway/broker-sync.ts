/**
 * Start-up recovery: a (re)started gateway asks the broker which forwards it should have
 * (`GET {BROKER_URL}/api/v1/gateway/forwards?gateway=NAME`, signed, answer
 * `{ forwards: OpenForward[] }`) and re-opens each on its old port, so a restart loses no
 * forward. Runs in the background, retrying with exponential backoff until the broker answers.
 */
import type { Logger } from '../adapters/logger.ts';
import { forwardSpecSchema } from '../core/gateways/control-contract.ts';
import { signRequest } from '../core/gateways/signature.ts';
import type { ForwardTable } from './forwarder-pool.ts';

/** The broker's endpoint that lists a gateway's forwards. */
export const BROKER_FORWARDS_PATH = '/api/v1/gateway/forwards';

export interface ForwardSync {
  /** `pending` until the broker's list has been applied once. */
  readonly state: 'pending' | 'done' | 'stopped';
  /** Resolves when the list has been applied (or the sync was stopped). */
  readonly done: Promise<{ reopened: number; skipped: number }>;
  stop(): void;
}

/**
 * Starts fetching the broker's list of this gateway's forwards and re-opening them.
 * Never rejects: failures are logged and retried (backoff from `initialDelayMs`, doubling,
 * at most `maxDelayMs`).
 */
export function startForwardSync(options: {
  brokerUrl: string;
  gatewayName: string;
  secret: string;
  forwarder: ForwardTable;
  logger: Logger;
  timeoutMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}): ForwardSync {
  const { forwarder, logger } = options;
  const url = new URL(
    `${options.brokerUrl.replace(/\/+$/, '')}${BROKER_FORWARDS_PATH}?gateway=${encodeURIComponent(options.gatewayName)}`,
  );
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let state: ForwardSync['state'] = 'pending';
  const stopped = () => state === 'stopped';
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const controller = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  async function fetchList(): Promise<unknown[]> {
    const path = `${url.pathname}${url.search}`;
    const response = await fetch(url, {
      method: 'GET',
      headers: {
        ...signRequest({ secret: options.secret, method: 'GET', path }),
        accept: 'application/json',
      },
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs ?? 5_000)]),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`the broker answered ${response.status}: ${text.slice(0, 200)}`);
    const body: unknown = JSON.parse(text);
    const list = (body as { forwards?: unknown } | null)?.forwards;
    if (!Array.isArray(list)) throw new Error('the broker answered without a forwards list');
    return list;
  }

  async function reopen(list: unknown[]): Promise<{ reopened: number; skipped: number }> {
    let reopened = 0;
    let skipped = 0;
    const now = Date.now();
    const specs = [];
    for (const entry of list) {
      const parsed = forwardSpecSchema.safeParse(entry);
      if (!parsed.success) {
        skipped++;
        logger.warn('broker listed an invalid forward, skipped', {
          issue: parsed.error.issues[0]?.message,
        });
      } else if (parsed.data.expiresAt <= now) {
        skipped++;
      } else {
        specs.push(parsed.data);
      }
    }
    for (let i = 0; i < specs.length; i += 64) {
      await Promise.all(
        specs.slice(i, i + 64).map(async (spec) => {
          try {
            await forwarder.open(spec);
            reopened++;
          } catch (e: unknown) {
            skipped++;
            logger.warn('could not re-open a forward', {
              key: spec.key,
              port: spec.listenPort,
              error: e instanceof Error ? e.message : String(e),
            });
          }
        }),
      );
    }
    return { reopened, skipped };
  }

  async function run(): Promise<{ reopened: number; skipped: number }> {
    let delay = options.initialDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      if (stopped()) return { reopened: 0, skipped: 0 };
      try {
        const result = await reopen(await fetchList());
        if (!stopped()) state = 'done';
        logger.info('forwards re-opened from the broker', { ...result, attempt });
        return result;
      } catch (e: unknown) {
        if (stopped()) return { reopened: 0, skipped: 0 };
        logger.warn('could not fetch forwards from the broker, will retry', {
          attempt,
          retryInMs: delay,
          error: e instanceof Error ? e.message : String(e),
        });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }

  const done = run();
  return {
    get state() {
      return state;
    },
    done,
    stop() {
      if (state === 'pending') state = 'stopped';
      controller.abort();
      clearTimeout(timer);
      wake?.();
    },
  };
}
