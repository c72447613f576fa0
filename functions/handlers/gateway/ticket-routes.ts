/**
 * `POST /api/v1/gateway/tickets/redeem`, signed by the gateway: it redeems the HTML5 ticket a
 * browser presented (core/gateways/html5.ts). Only the state table is touched, so redeeming
 * works in leased mode too. 403 `ticket_<reason>` refuses it; redeems and refusals are logged.
 */
import { ServiceUnavailableError } from '../../core/errors.ts';
import { redeemTicket, TicketRefusedError } from '../../core/gateways/html5.ts';
import { redeemTicketRoute } from '../api/gateway.ts';
import type { DesktopBroker } from '../http/deps.ts';
import { endpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import type { SignedRequests } from './signed.ts';

export function ticketRoutes(broker: DesktopBroker, signed: SignedRequests): Route[] {
  return [
    endpoint(redeemTicketRoute, async ({ event, body }) => {
      await signed.verify(event);
      const key = broker.ticketKey;
      if (!key) {
        throw new ServiceUnavailableError(
          'gateway_not_configured',
          'this broker has no gateway secret (GATEWAY_SECRET)',
        );
      }
      try {
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
