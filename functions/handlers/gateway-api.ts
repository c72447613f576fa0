/**
 * The gateways' API on the broker, every call signed with the gateway secret (HMAC,
 * timestamp, nonce):
 * - `GET /api/v1/gateway/forwards?gateway=NAME`: the forwards a restarting gateway re-opens;
 * - `POST /api/v1/gateway/registrations`, `DELETE /api/v1/gateway/registrations/{name}`:
 *   gateways that register themselves (./gateway/registration-routes.ts);
 * - `POST /api/v1/gateway/tickets/redeem`: a gateway redeems the HTML5 ticket a browser
 *   presented (./gateway/ticket-routes.ts).
 */
import { type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDesktops } from '../compose/desktops.ts';
import type { Config } from '../config.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import { gatewayForwardsRoute } from './api/gateway.ts';
import { registrationRoutes } from './gateway/registration-routes.ts';
import { signedRequests } from './gateway/signed.ts';
import { ticketRoutes } from './gateway/ticket-routes.ts';
import type { DesktopBroker } from './http/deps.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { lambdaHandler } from './lambda.ts';

/** Composes what the gateways' API uses: the base and the desktop side (forwards, leases). */
export async function composeGatewayApiBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<DesktopBroker> {
  const base = await composeBase(config, options);
  return { ...base, ...composeDesktops(base) };
}

/** The routes this handler serves, each the implementation of its contract. */
export function gatewayApiEndpoints(broker: DesktopBroker): Route[] {
  const signed = signedRequests(broker);
  return [
    endpoint(gatewayForwardsRoute, async ({ event, query }) => {
      await signed.verify(event);
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
    ...registrationRoutes(broker, signed),
    ...ticketRoutes(broker, signed),
  ];
}

export function buildGatewayApiHandler(broker: DesktopBroker): AlbHandler {
  return httpHandler(broker.logger, gatewayApiEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(composeGatewayApiBroker, buildGatewayApiHandler);
