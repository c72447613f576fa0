/**
 * The gateway's side of the redeem call: `POST {BROKER_URL}/api/v1/gateway/tickets/redeem`,
 * signed with the gateway secret. Request and answer are the shared contract in
 * core/gateways/html5-ticket.ts; this module only carries them.
 */
import type { Logger } from '../adapters/logger.ts';
import {
  REDEEM_PATH,
  type RedeemAnswer,
  type RefusalReason,
  redeemAnswerSchema,
  redeemRefusalSchema,
  redeemRequestSchema,
} from '../core/gateways/html5-ticket.ts';
import { signRequest } from '../core/gateways/signature.ts';

export type RedeemOutcome =
  | { readonly ok: true; readonly answer: RedeemAnswer }
  | { readonly ok: false; readonly reason: RefusalReason }
  /** The broker did not answer, or not as the contract says. */
  | { readonly ok: false; readonly reason: 'unavailable'; readonly detail: string };

/** Redeems one ticket used from `clientIp`. Never rejects. */
export type TicketRedeemer = (ticket: string, clientIp: string) => Promise<RedeemOutcome>;

export function createTicketRedeemer(options: {
  brokerUrl: string;
  secret: string;
  gatewayName: string;
  logger: Logger;
  timeoutMs?: number;
}): TicketRedeemer {
  const url = new URL(`${options.brokerUrl.replace(/\/+$/, '')}${REDEEM_PATH}`);
  const timeoutMs = options.timeoutMs ?? 5_000;
  return async (ticket, clientIp) => {
    const body = JSON.stringify(
      redeemRequestSchema.parse({ ticket, clientIp, gateway: options.gatewayName }),
    );
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          ...signRequest({ secret: options.secret, method: 'POST', path: url.pathname, body }),
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (e: unknown) {
      return { ok: false, reason: 'unavailable', detail: (e as Error).message };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status === 200) {
      const answer = redeemAnswerSchema.safeParse(json);
      if (answer.success) return { ok: true, answer: answer.data };
    } else if (status === 403) {
      const refusal = redeemRefusalSchema.safeParse(json);
      if (refusal.success) return { ok: false, reason: refusal.data.reason };
    }
    options.logger.warn('the broker answered a ticket redeem unexpectedly', {
      status,
      body: text.slice(0, 200),
    });
    return { ok: false, reason: 'unavailable', detail: `the broker answered ${status}` };
  };
}
