/**
 * The broker's client for a gateway's control API (functions/gateway/control-api.ts):
 * signed requests over fetch, each with a short timeout. Every failure (no answer, timeout,
 * refusal, unexpected answer) is a {@link GatewayUnavailableError}, so callers can skip the
 * gateway (`fewest` / `all` clusters) and the gateway check can mark it down.
 */
import { GatewayUnavailableError } from '../../core/errors.ts';
import type {
  ForwardSpec,
  GatewayControl,
  GatewayEndpoint,
  OpenForward,
} from '../../core/gateways/ports.ts';
import { signRequest } from '../../core/gateways/signature.ts';
import type { GatewayInfo } from '../../gateway/control-api.ts';

export type { GatewayInfo };

/** Default time a control call may take, in milliseconds. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 2_000;

function isOpenForward(value: unknown): value is OpenForward {
  const v = value as Partial<OpenForward> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.key === 'string' &&
    typeof v.listenPort === 'number' &&
    typeof v.desktopHost === 'string' &&
    typeof v.desktopPort === 'number' &&
    typeof v.clientIp === 'string' &&
    typeof v.expiresAt === 'number' &&
    typeof v.connections === 'number'
  );
}

/** Talks to gateways' control APIs with the shared secret. */
export class HttpGatewayControl implements GatewayControl {
  readonly #secret: string;
  readonly #timeoutMs: number;

  /**
   * @param options.secret the secret shared with the gateways (`GATEWAY_SECRET`).
   * @param options.timeoutMs how long one call may take; default 2000 ms.
   */
  constructor(options: { secret: string; timeoutMs?: number }) {
    this.#secret = options.secret;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
  }

  /**
   * Opens (or re-opens, same key) a forward.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async open(gateway: GatewayEndpoint, forward: ForwardSpec): Promise<OpenForward> {
    const answer = await this.#call(gateway, 'POST', '/forwards', forward);
    if (!isOpenForward(answer)) {
      throw new GatewayUnavailableError(gateway.name, { reason: 'answered with no forward' });
    }
    return answer;
  }

  /**
   * Closes a forward; an unknown key is not an error.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async close(gateway: GatewayEndpoint, key: string): Promise<void> {
    await this.#call(gateway, 'DELETE', `/forwards/${encodeURIComponent(key)}`);
  }

  /**
   * The gateway's open forwards.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async list(gateway: GatewayEndpoint): Promise<OpenForward[]> {
    const answer = (await this.#call(gateway, 'GET', '/forwards')) as { forwards?: unknown };
    if (!Array.isArray(answer?.forwards) || !answer.forwards.every(isOpenForward)) {
      throw new GatewayUnavailableError(gateway.name, { reason: 'answered with no forward list' });
    }
    return answer.forwards;
  }

  /**
   * Resolves when the gateway's control API answers a signed request.
   * @throws {GatewayUnavailableError} otherwise.
   */
  async ping(gateway: GatewayEndpoint): Promise<void> {
    await this.info(gateway);
  }

  /**
   * The gateway's state (`GET /info`): version, port range, forwards, connections.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async info(gateway: GatewayEndpoint): Promise<GatewayInfo> {
    const answer = (await this.#call(gateway, 'GET', '/info')) as GatewayInfo | null;
    if (typeof answer?.version !== 'string' || typeof answer.forwards !== 'number') {
      throw new GatewayUnavailableError(gateway.name, { reason: 'answered with no state' });
    }
    return answer;
  }

  async #call(
    gateway: GatewayEndpoint,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    payload?: unknown,
  ): Promise<unknown> {
    let url: URL;
    try {
      url = new URL(`${gateway.controlUrl.replace(/\/+$/, '')}${path}`);
    } catch (e: unknown) {
      throw new GatewayUnavailableError(gateway.name, {
        reason: `has an invalid control URL "${gateway.controlUrl}"`,
        cause: e,
      });
    }
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const headers: Record<string, string> = {
      ...signRequest({
        secret: this.#secret,
        method,
        path: `${url.pathname}${url.search}`,
        body,
      }),
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';

    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (e: unknown) {
      const timedOut = e instanceof DOMException && e.name === 'TimeoutError';
      throw new GatewayUnavailableError(gateway.name, {
        reason: timedOut ? `did not answer within ${this.#timeoutMs} ms` : 'is not reachable',
        cause: e,
      });
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch (e: unknown) {
      throw new GatewayUnavailableError(gateway.name, {
        reason: `answered ${status} with something other than JSON`,
        status,
        cause: e,
      });
    }
    if (status < 200 || status > 299) {
      const err = json as { error?: unknown; message?: unknown } | undefined;
      const code = typeof err?.error === 'string' ? err.error : undefined;
      const message = typeof err?.message === 'string' ? err.message : undefined;
      throw new GatewayUnavailableError(gateway.name, {
        reason: `refused the request (${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''})`,
        status,
        code,
      });
    }
    return json;
  }
}
