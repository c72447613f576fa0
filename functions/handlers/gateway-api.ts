/**
 * The gateways' API on the broker, every call signed with the gateway secret (HMAC,
 * timestamp, nonce):
 * - `GET /api/v1/gateway/forwards?gateway=NAME`: the forwards a restarting gateway re-opens;
 * - `POST /api/v1/gateway/registrations`, `DELETE /api/v1/gateway/registrations/{name}`:
 *   gateways that register themselves (./gateway/registration-routes.ts).
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../compose.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import { registrationRoutes } from './gateway/registration-routes.ts';
import { signedRequests } from './gateway/signed.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { queryParam } from './http/request.ts';
import { errorResponse, json } from './http/response.ts';
import { lambdaHandler } from './lambda.ts';

export function buildGatewayApiHandler(broker: Broker): AlbHandler {
  const signed = signedRequests(broker);
  return httpHandler(broker.logger, [
    {
      method: 'GET',
      path: '/api/v1/gateway/forwards',
      handler: async (event: ALBEvent) => {
        signed.verify(event);
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
    ...registrationRoutes(broker, signed),
  ]);
}

export const handler = lambdaHandler(buildGatewayApiHandler);
