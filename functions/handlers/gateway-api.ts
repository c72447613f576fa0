/**
 * The gateways' calls to the broker, each signed with the gateway secret (HMAC, timestamp,
 * nonce):
 * - `GET /api/v1/gateway/forwards?gateway=NAME`: the forwards a restarting gateway re-opens;
 * - `POST /api/v1/gateway/tickets/redeem`: a gateway redeems the HTML5 ticket a browser
 *   presented (body and answer: core/gateways/html5-ticket.ts); 403 `ticket_<reason>` refuses.
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../compose.ts';
import { DatabaseUnavailableError, UnauthorizedError } from '../core/errors.ts';
import { redeemTicket, TicketRefusedError } from '../core/gateways/html5.ts';
import { REDEEM_PATH, redeemRequestSchema } from '../core/gateways/html5-ticket.ts';
import { createRequestVerifier, type RequestVerifier } from '../core/gateways/signature.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { bodyText, headerValues, jsonBody, queryParam } from './http/request.ts';
import { errorResponse, json } from './http/response.ts';
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

export function buildGatewayApiHandler(broker: Broker): AlbHandler {
  const secret = broker.config.gatewaySecret;
  const verifier = secret ? createRequestVerifier({ secret }) : undefined;
  return httpHandler(broker.logger, [
    {
      method: 'GET',
      path: '/api/v1/gateway/forwards',
      handler: async (event: ALBEvent) => {
        if (!verifier) return notConfigured();
        requireGatewaySignature(verifier, event);
        const gateway = queryParam(event, 'gateway');
        if (!gateway) return errorResponse(400, 'invalid_request', 'gateway: is required');
        const now = broker.clock.now();
        // Forwards recorded in the site database, and those opened in leased mode (state table).
        const recorded = await broker.forwards.liveForGateway(gateway, now).catch((e: unknown) => {
          if (e instanceof DatabaseUnavailableError) return [];
          throw e;
        });
        const leased = await broker.leasing.leasedForwards(gateway, now);
        const keys = new Set(recorded.map((f) => f.key));
        const live = [...recorded, ...leased.filter((f) => !keys.has(f.key))];
        return json(200, {
          forwards: live.map((f) => ({
            key: f.key,
            listenPort: f.listenPort,
            desktopHost: f.desktopHost,
            desktopPort: f.desktopPort,
            clientIp: f.clientIp,
            expiresAt: f.expiresAt,
            connections: 0,
          })),
        });
      },
    },
    {
      method: 'POST',
      path: REDEEM_PATH,
      handler: async (event: ALBEvent) => {
        const key = broker.ticketKey;
        if (!verifier || !key) return notConfigured();
        requireGatewaySignature(verifier, event);
        const request = jsonBody(event, redeemRequestSchema);
        try {
          // Only the state table: redeeming works in leased mode too.
          const answer = await redeemTicket(
            { ticketKey: key, sessions: broker.html5, clock: broker.clock },
            request,
          );
          broker.logger.info('html5 ticket redeemed', {
            key: answer.key,
            user: answer.user,
            desktopId: answer.desktopId,
            gateway: request.gateway,
            clientIp: request.clientIp,
          });
          return json(200, answer);
        } catch (e: unknown) {
          if (e instanceof TicketRefusedError) {
            broker.logger.warn('html5 ticket refused', {
              reason: e.reason,
              gateway: request.gateway,
              clientIp: request.clientIp,
            });
          }
          throw e;
        }
      },
    },
  ]);
}

export const handler = lambdaHandler(buildGatewayApiHandler);
