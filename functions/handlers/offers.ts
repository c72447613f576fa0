/**
 * `GET /api/v1/offers`, `POST /api/v1/offers/{desktopId}/connect`,
 * `POST /api/v1/offers/{desktopId}/release`.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../compose.ts';
import { connect, listOffers, release } from '../core/desktops/desktops.ts';
import { clientOf } from './http/client.ts';
import { desktopDeps } from './http/deps.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { jsonBody, pathParam, validate } from './http/request.ts';
import { json } from './http/response.ts';
import { requireSession } from './http/session.ts';
import { lambdaHandler } from './lambda.ts';

const desktopId = z.coerce
  .number({ message: 'must be a desktop id (a number)' })
  .int('must be a desktop id (a number)')
  .positive('must be a desktop id (a number)')
  .max(2_147_483_647, 'must be a desktop id (a number)');
/** `{ protocol?, display? }`: `display: "browser"` asks for a gateway WebSocket URL and a ticket. */
const connectBody = z.strictObject({
  protocol: z.string().min(1).max(16).optional(),
  display: z.enum(['client', 'browser']).optional(),
});

export function buildOffersHandler(broker: Broker): AlbHandler {
  const deps = desktopDeps(broker);
  const idOf = (event: ALBEvent) =>
    validate(z.object({ desktopId }), { desktopId: pathParam(event, 'desktopId') }).desktopId;
  return httpHandler(broker.logger, [
    {
      method: 'GET',
      path: '/api/v1/offers',
      handler: async (event: ALBEvent) => {
        const session = await requireSession(broker, event);
        return json(200, await listOffers(deps, session));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/offers/{desktopId}/connect',
      handler: async (event: ALBEvent) => {
        const session = await requireSession(broker, event);
        const id = idOf(event);
        const body = jsonBody(event, connectBody);
        // An HTML5 ticket is bound to the address of the client asking for it (through a
        // gateway's login forwarding: the address in its signed tag).
        const clientIp = clientOf(event, broker.config.gatewaySecret).ip;
        return json(
          200,
          await connect(deps, session, id, {
            protocol: body.protocol,
            display: body.display,
            clientIp,
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/api/v1/offers/{desktopId}/release',
      handler: async (event: ALBEvent) => {
        const session = await requireSession(broker, event);
        await release(deps, session, idOf(event));
        return json(200, { ok: true });
      },
    },
  ]);
}

export const handler = lambdaHandler(buildOffersHandler);
