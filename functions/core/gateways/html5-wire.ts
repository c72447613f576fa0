/**
 * The wire between a browser and a gateway for desktops in the browser: where the WebSocket
 * goes, how the ticket travels, the keep-alive, and the close codes the page turns into
 * sentences. No Node.js imports: the desktop page imports this module as it is.
 * (The ticket itself and the redeem call, broker ↔ gateway, are in html5-ticket.ts.)
 */

/** Where the gateway's public HTTP face takes the browser's WebSocket. */
export const HTML5_PATH = '/app/html5/websocket';

/**
 * The WebSocket subprotocol the browser offers next to `ticketProtocol` and the gateway
 * selects. The ticket travels as a subprotocol, not in the URL, so it stays out of access logs.
 */
export const BRIDGE_PROTOCOL = 'binary';
const TICKET_PROTOCOL_PREFIX = 'deskbroker.ticket.';

/**
 * How often a gateway pings each browser it bridges. A live session is never idle for
 * longer, whatever the desktop does: load balancers in front (their idle timeout) only cut
 * connections whose gateway has died without a word.
 */
export const KEEPALIVE_MS = 30_000;

/**
 * Protocols a browser can display: VNC with noVNC (the ticket travels as a WebSocket
 * subprotocol) and RDP with IronRDP's WebAssembly client (the ticket travels as the
 * RDCleanPath request's proxy authorization, the first WebSocket message).
 */
export const BROWSER_PROTOCOLS = ['vnc', 'rdp'] as const;
export type BrowserProtocol = (typeof BROWSER_PROTOCOLS)[number];

/** The subprotocol that carries a ticket in the WebSocket handshake. */
export function ticketProtocol(ticket: string): string {
  return `${TICKET_PROTOCOL_PREFIX}${ticket}`;
}

/** The ticket among the subprotocols a browser offered, if any. */
export function ticketFromProtocols(protocols: Iterable<string>): string | undefined {
  for (const p of protocols) {
    if (p.startsWith(TICKET_PROTOCOL_PREFIX)) return p.slice(TICKET_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

/**
 * WebSocket close codes the gateway sends the browser (4000-4999 are the application's).
 * The desktop page turns each into a sentence; the reason text says it too, briefly.
 */
export const CLOSE_CODES = {
  /** The desktop ended the connection. */
  desktopClosed: 4000,
  /** The broker ended the session (release, sign-out, agent logout) or the session expired. */
  sessionEnded: 4001,
  /** No traffic for the gateway's idle limit. */
  idle: 4002,
  /** The gateway is shutting down. */
  gatewayStopping: 4003,
  /** No ticket, or not a ticket of this broker. */
  ticketInvalid: 4401,
  /** The ticket was issued to another address. */
  ticketWrongAddress: 4403,
  /** The ticket expired before it was used. */
  ticketExpired: 4408,
  /** The ticket was used already, or its desktop released since. */
  ticketUsed: 4409,
  /** The broker could not be asked. */
  brokerUnavailable: 4502,
  /** The desktop did not accept the connection. */
  desktopUnreachable: 4504,
} as const;
