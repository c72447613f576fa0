/**
 * The broker's client for a gateway's control API (functions/gateway/control-api.ts):
 * signed requests over fetch, each with a short timeout. Every failure (no answer, timeout,
 * refusal, unexpected answer) is a {@link GatewayUnavailableError}, so callers can skip the
 * gateway (`fewest` / `all` clusters) and the gateway check can mark it down.
 */

import { GatewayUnavailableError } from '../../core/errors.ts';
import {
  closeForwardSchema,
  controlErrorSchema,
  forwardListSchema,
  type GatewayInfo,
  gatewayInfoSchema,
  openForwardSchema,
} from '../../core/gateways/control-contract.ts';
import type {
  ForwardSpec,
  GatewayControl,
  GatewayEndpoint,
  OpenForward,
} from '../../core/gateways/ports.ts';
import { signRequest } from '../../core/gateways/signature.ts';
import type * as z from '../../core/zod.ts';

export type { GatewayInfo };

/** Default time a control call may take, in milliseconds. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 2_000;

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
    return this.#call(gateway, 'POST', '/forwards', openForwardSchema, forward);
  }

  /**
   * Closes a forward; an unknown key is not an error.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async close(gateway: GatewayEndpoint, key: string): Promise<void> {
    await this.#call(gateway, 'DELETE', `/forwards/${encodeURIComponent(key)}`, closeForwardSchema);
  }

  /**
   * The gateway's open forwards.
   * @throws {GatewayUnavailableError} when the gateway does not answer or refuses.
   */
  async list(gateway: GatewayEndpoint): Promise<OpenForward[]> {
    return (await this.#call(gateway, 'GET', '/forwards', forwardListSchema)).forwards;
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
    return this.#call(gateway, 'GET', '/info', gatewayInfoSchema);
  }

  /** One signed call; its answer parsed with the contract's schema for it. */
  async #call<S extends z.ZodMiniType>(
    gateway: GatewayEndpoint,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    payload?: unknown,
  ): Promise<z.output<S>> {
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
      const err = controlErrorSchema.safeParse(json);
      const code = err.success ? err.data.error : undefined;
      const message = err.success ? `: ${err.data.message}` : '';
      throw new GatewayUnavailableError(gateway.name, {
        reason: `refused the request (${status}${code ? ` ${code}` : ''}${message})`,
        status,
        code,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GatewayUnavailableError(gateway.name, {
        reason: `answered ${method} ${path} outside the contract (${issue?.path.join('.') || 'body'}: ${issue?.message})`,
        status,
      });
    }
    return parsed.data;
  }
}
