/**
 * `GET /api/v1/gateway/forwards?gateway=NAME`: a restarting gateway asks which forwards it
 * should hold open. Requests are signed with the gateway secret (HMAC, timestamp, nonce).
 */
import { DynamoNonceStore } from '../adapters/state/nonce-store.ts';
import type { Broker } from '../compose.ts';
import { DatabaseUnavailableError, UnauthorizedError } from '../core/errors.ts';
import { createRequestVerifier } from '../core/gateways/signature.ts';
import { gatewayForwardsRoute } from './api/gateway.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { bodyText, headerValues } from './http/request.ts';
import { errorResponse } from './http/response.ts';
import { lambdaHandler } from './lambda.ts';

/** The routes this handler serves, each the implementation of its contract. */
export function gatewayApiEndpoints(broker: Broker): Route[] {
  const secret = broker.config.gatewaySecret;
  // Nonces in the state table: a request replayed against another instance is refused too.
  const verifier = secret
    ? createRequestVerifier({ secret, nonces: new DynamoNonceStore(broker.state) })
    : undefined;
  return [
    endpoint(gatewayForwardsRoute, async ({ event, query }) => {
      if (!verifier)
        return errorResponse(
          503,
          'gateway_not_configured',
          'this broker has no gateway secret (GATEWAY_SECRET)',
        );
      const raw = event.multiValueQueryStringParameters
        ? Object.entries(event.multiValueQueryStringParameters).flatMap(([k, vs]) =>
            (vs ?? []).map((v) => `${k}=${v}`),
          )
        : Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => `${k}=${v}`);
      const headers = Object.fromEntries(
        ['x-deskbroker-timestamp', 'x-deskbroker-nonce', 'x-deskbroker-signature'].map((h) => [
          h,
          headerValues(event, h)[0],
        ]),
      );
      const verdict = await verifier.verify({
        method: event.httpMethod,
        path: `${event.path}${raw.length > 0 ? `?${raw.join('&')}` : ''}`,
        body: bodyText(event),
        headers,
      });
      if (!verdict.ok)
        throw new UnauthorizedError(
          'bad_signature',
          `the request is not signed by a gateway (${verdict.reason})`,
        );
      const { gateway } = query;
      const now = broker.clock.now();
      // Forwards recorded in the site database, and those opened in leased mode (state table).
      const recorded = await broker.forwards.liveForGateway(gateway, now).catch((e: unknown) => {
        if (e instanceof DatabaseUnavailableError) return [];
        throw e;
      });
      const leased = await broker.leasing.leasedForwards(gateway, now);
      const keys = new Set(recorded.map((f) => f.key));
      const live = [...recorded, ...leased.filter((f) => !keys.has(f.key))];
      return {
        forwards: live.map((f) => ({
          key: f.key,
          listenPort: f.listenPort,
          desktopHost: f.desktopHost,
          desktopPort: f.desktopPort,
          clientIp: f.clientIp,
          expiresAt: f.expiresAt,
          connections: 0,
        })),
      };
    }),
  ];
}

export function buildGatewayApiHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, gatewayApiEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(buildGatewayApiHandler);
