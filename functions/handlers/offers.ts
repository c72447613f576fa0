/**
 * `GET /api/v1/offers`, `POST /api/v1/offers/{desktopId}/connect`,
 * `POST /api/v1/offers/{desktopId}/release` (contracts in ./api/offers.ts).
 */
import { type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDesktops } from '../compose/desktops.ts';
import { composeSessions } from '../compose/login.ts';
import type { Config } from '../config.ts';
import { connect, listOffers, release } from '../core/desktops/desktops.ts';
import { emptyOffersReason } from '../core/desktops/offers.ts';
import { connectRoute, listOffersRoute, releaseRoute } from './api/offers.ts';
import { clientOf } from './http/client.ts';
import { type DesktopBroker, desktopDeps, type SessionBroker } from './http/deps.ts';
import { sessionEndpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { lambdaHandler } from './lambda.ts';

/** What offers, connect and release use of the broker. */
export type OffersBroker = SessionBroker & DesktopBroker;

/** Composes what offers, connect and release use: the base, sessions and the desktop side. */
export async function composeOffersBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<OffersBroker> {
  const base = await composeBase(config, options);
  return { ...base, ...composeSessions(base), ...composeDesktops(base) };
}

/** The routes this handler serves, each the implementation of its contract. */
export function offersEndpoints(broker: OffersBroker): Route[] {
  const deps = desktopDeps(broker);
  return [
    sessionEndpoint(broker, listOffersRoute, async ({ session }) => {
      const list = await listOffers(deps, session);
      return list.offers.length > 0
        ? list
        : { ...list, reason: emptyOffersReason({ ...session, mode: list.mode }) };
    }),
    sessionEndpoint(broker, connectRoute, ({ event, session, params, body }) =>
      connect(deps, session, params.desktopId, {
        protocol: body.protocol,
        display: body.display,
        // An HTML5 ticket is bound to the address of the client asking for it (through a
        // gateway's login forwarding: the address in its signed tag).
        clientIp: clientOf(event, broker.config).ip,
      }),
    ),
    sessionEndpoint(broker, releaseRoute, async ({ session, params }) => {
      await release(deps, session, params.desktopId);
      return { ok: true as const };
    }),
  ];
}

export function buildOffersHandler(broker: OffersBroker): AlbHandler {
  return httpHandler(broker.logger, offersEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(composeOffersBroker, buildOffersHandler);
