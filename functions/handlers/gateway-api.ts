/**
 * The gateways' calls to the broker, each signed with the gateway secret (HMAC, timestamp,
 * nonce); contracts in ./api/gateway.ts:
 * - `GET /api/v1/gateway/forwards?gateway=NAME`: the forwards a restarting gateway re-opens;
 * - `POST /api/v1/gateway/tickets/redeem`: a gateway redeems the HTML5 ticket a browser
 *   presented; 403 `ticket_<reason>` refuses it, and the refusal is logged.
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../compose.ts';
import { DatabaseUnavailableError, UnauthorizedError } from '../core/errors.ts';
import { redeemTicket, TicketRefusedError } from '../core/gateways/html5.ts';
import { createRequestVerifier, type RequestVerifier } from '../core/gateways/signature.ts';
import { gatewayForwardsRoute, redeemTicketRoute } from './api/gateway.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { bodyText, headerValues } from './http/request.ts';
import { errorResponse } from './http/response.ts';
import { lambdaHandler } from './lambda.ts';

const notConfigured = () =>
  errorResponse(
    503,
    'gateway_not_configured',
    'this broker has no gateway secret (GATEWAY_SECRET)',
  );

/** @throws {UnauthorizedError} `bad_signature` unless a gateway signed this request. */
function requireGatewaySignature(verifier: RequestVerifier, event: ALBEvent): void {
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
  const verdict = verifier.verify({
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
}

/** The routes this handler serves, each the implementation of its contract. */
export function gatewayApiEndpoints(broker: Broker): Route[] {
  const secret = broker.config.gatewaySecret;
  const verifier = secret ? createRequestVerifier({ secret }) : undefined;
  return [
    endpoint(gatewayForwardsRoute, async ({ event, query }) => {
      if (!verifier) return notConfigured();
      requireGatewaySignature(verifier, event);
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
    endpoint(redeemTicketRoute, async ({ event, body }) => {
      const key = broker.ticketKey;
      if (!verifier || !key) return notConfigured();
      requireGatewaySignature(verifier, event);
      try {
        // Only the state table: redeeming works in leased mode too.
        const answer = await redeemTicket(
          { ticketKey: key, sessions: broker.html5, clock: broker.clock },
          body,
        );
        broker.logger.info('html5 ticket redeemed', {
          key: answer.key,
          user: answer.user,
          desktopId: answer.desktopId,
          gateway: body.gateway,
          clientIp: body.clientIp,
        });
        return answer;
      } catch (e: unknown) {
        if (e instanceof TicketRefusedError) {
          broker.logger.warn('html5 ticket refused', {
            reason: e.reason,
            gateway: body.gateway,
            clientIp: body.clientIp,
          });
        }
        throw e;
      }
    }),
  ];
}

export function buildGatewayApiHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, gatewayApiEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(buildGatewayApiHandler);
