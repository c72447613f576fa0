/**
 * Why a desktop session ended, as a sentence with the next step: from the gateway's close
 * code (functions/core/gateways/html5-wire.ts), or from the connection itself.
 */
import { CLOSE_CODES } from '../../../functions/core/gateways/html5-wire.ts';
import type { SessionEnd } from './session.ts';

const RECONNECT = 'Reconnect to get a new connection.';

const BY_CODE: Readonly<Record<number, string>> = {
  [CLOSE_CODES.desktopClosed]: 'The desktop ended the session.',
  [CLOSE_CODES.sessionEnded]:
    'The session was ended: the desktop was released, you signed out, or your sign-in expired.',
  [CLOSE_CODES.idle]: 'The session was closed after a long time without activity.',
  [CLOSE_CODES.gatewayStopping]: 'The gateway is restarting. Reconnect in a moment.',
  [CLOSE_CODES.ticketInvalid]: `The gateway did not accept this connection. ${RECONNECT}`,
  [CLOSE_CODES.ticketWrongAddress]:
    'The gateway saw this connection come from another network address than the one that asked for it (a VPN or proxy can do that). Reconnect; if it happens again, tell your administrator.',
  [CLOSE_CODES.ticketExpired]: `The connection took too long to start. ${RECONNECT}`,
  [CLOSE_CODES.ticketUsed]:
    'This connection was already used, or the desktop was released meanwhile. Reconnect from your desktops.',
  [CLOSE_CODES.brokerUnavailable]:
    'The gateway could not reach the broker. Try again in a minute; if it goes on, tell your administrator.',
  [CLOSE_CODES.desktopUnreachable]:
    'The desktop did not answer. It may be off or still starting: try again in a minute.',
};

/** The sentence for how a session ended. */
export function endMessage(end: SessionEnd): string {
  if (end.byUser) return 'You disconnected.';
  const known = BY_CODE[end.code];
  if (known) return known;
  return end.wasConnected
    ? 'The connection to the gateway was lost. Check your network, then reconnect.'
    : 'The gateway could not be reached. Check your network, then try again; if it goes on, tell your administrator.';
}
