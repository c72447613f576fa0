/**
 * The browser end of a connect (`display: "browser"`): the gateway that will bridge the
 * browser's WebSocket, and a one-time ticket for it. Used by the normal and the leased path.
 */
import type { Clock } from '../clock.ts';
import { ServiceUnavailableError } from '../errors.ts';
import { issueTicket } from '../gateways/html5.ts';
import type { BrowserProtocol } from '../gateways/html5-ticket.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import type { Session } from '../login/sessions.ts';
import { type BrowserConnection, browserConnectionAnswer } from './connection.ts';
import type { ProtocolEntry } from './protocol-plans.ts';

/**
 * Picks the gateway and issues the ticket, bound to the desktop's address and port and to
 * `clientIp` (the address of the request asking for it).
 * @throws {ServiceUnavailableError} `gateway_not_configured` without a gateway secret; and
 *   what {@link GatewayRouter.openBrowser} throws.
 */
export async function openInBrowser(
  deps: { readonly gateways: GatewayRouter; readonly ticketKey?: Buffer; readonly clock: Clock },
  input: {
    readonly session: Session;
    readonly desktop: { readonly id: number; readonly name: string; readonly address: string };
    /** A browser-capable protocol (see `chooseProtocol` with display "browser"). */
    readonly protocol: ProtocolEntry;
    readonly clientIp: string;
  },
): Promise<BrowserConnection> {
  if (!deps.ticketKey) {
    throw new ServiceUnavailableError(
      'gateway_not_configured',
      'this broker has no gateway secret (GATEWAY_SECRET)',
    );
  }
  const { session, desktop, protocol } = input;
  const path = await deps.gateways.openBrowser({
    user: session.user,
    desktop,
    protocol,
    clientIp: input.clientIp,
    loginGateway: session.loginGateway,
    expiresAt: session.expiresAt,
  });
  const ticket = issueTicket(
    deps.ticketKey,
    {
      user: session.user,
      desktop,
      protocol: protocol.protocol as BrowserProtocol,
      port: protocol.port,
      clientIp: input.clientIp,
      closeAt: session.expiresAt,
    },
    deps.clock.now(),
  );
  return browserConnectionAnswer({
    desktop,
    protocol: protocol.protocol as BrowserProtocol,
    path,
    ticket,
  });
}
