/**
 * Gateway calls to the broker are signed with the gateway secret (core/gateways/signature.ts):
 * this checks one, over the path with its query as sent and the raw body.
 */
import type { ALBEvent } from 'aws-lambda';
import { DynamoNonceStore } from '../../adapters/state/nonce-store.ts';
import { ServiceUnavailableError, UnauthorizedError } from '../../core/errors.ts';
import {
  createRequestVerifier,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../core/gateways/signature.ts';
import type { DesktopBroker } from '../http/deps.ts';
import { bodyText, headerValues } from '../http/request.ts';

/** Checks gateway signatures; `verify` returns the raw body that was signed. */
export interface SignedRequests {
  /**
   * @throws {ServiceUnavailableError} `gateway_not_configured` without GATEWAY_SECRET.
   * @throws {UnauthorizedError} `bad_signature` for an unsigned, forged, stale or replayed call.
   */
  verify(event: ALBEvent): Promise<string>;
}

/**
 * A checker of signed gateway requests for one broker. Nonces are remembered in the state
 * table: a request replayed against another broker or Lambda instance is refused too.
 */
export function signedRequests(broker: DesktopBroker): SignedRequests {
  const secret = broker.config.gatewaySecret;
  const verifier = secret
    ? createRequestVerifier({ secret, nonces: new DynamoNonceStore(broker.state) })
    : undefined;
  return {
    async verify(event) {
      if (!verifier) {
        throw new ServiceUnavailableError(
          'gateway_not_configured',
          'this broker has no gateway secret (GATEWAY_SECRET)',
        );
      }
      const raw = event.multiValueQueryStringParameters
        ? Object.entries(event.multiValueQueryStringParameters).flatMap(([k, vs]) =>
            (vs ?? []).map((v) => `${k}=${v}`),
          )
        : Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => `${k}=${v}`);
      const headers = Object.fromEntries(
        [TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER].map((h) => [
          h,
          headerValues(event, h)[0],
        ]),
      );
      const body = bodyText(event);
      const verdict = await verifier.verify({
        method: event.httpMethod,
        path: `${event.path}${raw.length > 0 ? `?${raw.join('&')}` : ''}`,
        body,
        headers,
      });
      if (!verdict.ok)
        throw new UnauthorizedError(
          'bad_signature',
          `the request is not signed by a gateway (${verdict.reason})`,
        );
      return body;
    },
  };
}
