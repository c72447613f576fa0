/**
 * The gateway registers itself with the broker (core/gateways/registration-contract.ts):
 * a signed `POST {BROKER_URL}/api/v1/gateway/registrations` at start and every
 * `GATEWAY_RENEW_SECONDS`, carrying its name, addresses, port range, version, tags, capacity
 * and counters; a signed `DELETE` when it stops cleanly (SIGTERM, as ECS stops a task). A
 * gateway that dies without the DELETE is dropped by the broker after three missed renewals.
 * Failures are logged and retried; registration never stops the gateway from forwarding.
 */
import os from 'node:os';
import type { Logger } from '../adapters/logger.ts';
import {
  deregistrationAnswerSchema,
  deregistrationPath,
  GATEWAY_REGISTRATIONS_PATH,
  type RegistrationAnswer,
  type RegistrationRequest,
  registrationAnswerSchema,
} from '../core/gateways/registration-contract.ts';
import { signRequest } from '../core/gateways/signature.ts';

/** How long one registration call may take. */
const CALL_TIMEOUT_MS = 5_000;
/** The first retry after a failed registration; it doubles up to the renewal period. */
const FIRST_RETRY_MS = 500;

export interface Registration {
  /** `registered` once the broker has answered a registration, until `stop`. */
  readonly state: 'pending' | 'registered' | 'stopped';
  /** The broker's last answer. */
  readonly last?: RegistrationAnswer;
  /** Resolves after the first successful registration (or the stop). */
  readonly first: Promise<void>;
  /** Stops renewing and deregisters (best effort, bounded by the call timeout). */
  stop(): Promise<void>;
}

const wildcard = (address: string) => address === '0.0.0.0' || address === '::';

/**
 * This gateway's private address, for the control URL the broker calls: the configured one,
 * the control API's bind address, the task's address from the ECS task metadata, or the
 * machine's first private IPv4 address.
 */
export async function privateAddress(options: {
  configured?: string;
  controlBind: string;
  ecsMetadataUri?: string;
}): Promise<string> {
  if (options.configured) return options.configured;
  if (!wildcard(options.controlBind)) return options.controlBind;
  if (options.ecsMetadataUri) {
    try {
      const res = await fetch(`${options.ecsMetadataUri}/task`, {
        signal: AbortSignal.timeout(2_000),
      });
      const task = (await res.json()) as {
        Containers?: { Networks?: { IPv4Addresses?: string[] }[] }[];
      };
      const found = task.Containers?.flatMap((c) => c.Networks ?? []).flatMap(
        (n) => n.IPv4Addresses ?? [],
      )[0];
      if (found) return found;
    } catch {
      // Fall back to the interfaces below.
    }
  }
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      // 169.254/16 is link-local (on Fargate, the task metadata network).
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  return '127.0.0.1';
}

/** Starts registering; the first call goes out at once. */
export function startRegistration(options: {
  brokerUrl: string;
  secret: string;
  /** What to say on each call (the counters change between renewals). */
  describe: () => Promise<RegistrationRequest>;
  logger: Logger;
}): Registration {
  const { logger } = options;
  const base = options.brokerUrl.replace(/\/+$/, '');
  let state: Registration['state'] = 'pending';
  let last: RegistrationAnswer | undefined;
  let name: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveFirst: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    resolveFirst = resolve;
  });
  let inflight: Promise<void> = Promise.resolve();
  // A function, so the checks after each await read the state afresh.
  const stopped = () => state === 'stopped';

  async function call(method: 'POST' | 'DELETE', path: string, body?: string): Promise<unknown> {
    const url = new URL(`${base}${path}`);
    const response = await fetch(url, {
      method,
      headers: {
        ...signRequest({
          secret: options.secret,
          method,
          path: `${url.pathname}${url.search}`,
          body,
        }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`the broker answered ${response.status}: ${text.slice(0, 200)}`);
    }
    return JSON.parse(text);
  }

  let retryMs = FIRST_RETRY_MS;
  async function register(): Promise<void> {
    if (stopped()) return;
    let request: RegistrationRequest | undefined;
    try {
      request = await options.describe();
      name = request.name;
      const answer = registrationAnswerSchema.parse(
        await call('POST', GATEWAY_REGISTRATIONS_PATH, JSON.stringify(request)),
      );
      last = answer;
      if (stopped()) return;
      if (state === 'pending') {
        logger.info('gateway registered with the broker', {
          publicAddress: answer.publicAddress,
          renewSeconds: answer.renewSeconds,
        });
      }
      state = 'registered';
      retryMs = FIRST_RETRY_MS;
      resolveFirst();
      schedule(answer.renewSeconds * 1000);
    } catch (e: unknown) {
      if (stopped()) return;
      const renewMs = (request?.renewSeconds ?? 20) * 1000;
      logger.warn('could not register with the broker, will retry', {
        retryInMs: Math.min(retryMs, renewMs),
        error: e instanceof Error ? e.message : String(e),
      });
      schedule(Math.min(retryMs, renewMs));
      retryMs *= 2;
    }
  }

  function schedule(ms: number) {
    timer = setTimeout(() => {
      inflight = register();
    }, ms);
    timer.unref();
  }

  inflight = register();
  let stopping: Promise<void> | undefined;
  return {
    get state() {
      return state;
    },
    get last() {
      return last;
    },
    first,
    stop() {
      stopping ??= (async () => {
        state = 'stopped';
        clearTimeout(timer);
        resolveFirst();
        // A renewal on its way would register the gateway again after the DELETE: let it land.
        await inflight;
        if (last === undefined || name === undefined) return;
        try {
          const answer = deregistrationAnswerSchema.parse(
            await call('DELETE', deregistrationPath(name)),
          );
          logger.info('gateway deregistered from the broker', answer);
        } catch (e: unknown) {
          // The broker drops it after three missed renewals instead.
          logger.warn('could not deregister from the broker', {
            error: e instanceof Error ? e.message : String(e),
          });
        }
      })();
      return stopping;
    },
  };
}
