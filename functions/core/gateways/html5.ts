/**
 * Desktops in the browser (the guide's "Leostream HTML5 display rendering"): the broker issues
 * a one-time ticket on connect, and redeems it when a gateway presents it with the browser's
 * WebSocket. Redeeming checks the seal, the expiry and the client address, records the single
 * use in the state table (so it holds across every broker and gateway, and in leased mode),
 * and refuses a ticket whose desktop was released or whose session ended after it was issued.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import {
  type BrowserProtocol,
  checkClaims,
  openTicket,
  type RedeemAnswer,
  type RedeemRequest,
  type RefusalReason,
  sealTicket,
  TICKET_TTL_MS,
} from './html5-ticket.ts';
import type { Html5SessionStore } from './ports.ts';

const MESSAGES: Record<RefusalReason, string> = {
  malformed: 'that is not an HTML5 ticket',
  forged: 'the ticket was not issued by this broker',
  expired: 'the ticket has expired',
  wrong_address: 'the ticket was issued to another address',
  replayed: 'the ticket has been used already',
  revoked: 'the desktop was released or the session ended after the ticket was issued',
};

/** 403 `ticket_<reason>`: the ticket opens no bridge. `reason` is in the body as well. */
export class TicketRefusedError extends AppError {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason) {
    super(403, `ticket_${reason}`, MESSAGES[reason], { details: { reason } });
    this.name = 'TicketRefusedError';
    this.reason = reason;
  }
}

/** What a ticket is issued for. */
export interface TicketRequest {
  readonly user: string;
  readonly desktop: { readonly id: number; readonly address: string };
  readonly protocol: BrowserProtocol;
  readonly port: number;
  /** The address of the client asking; only it may use the ticket. */
  readonly clientIp: string;
  /** The end of the user's session. */
  readonly closeAt: number;
}

/** Issues a ticket (valid {@link TICKET_TTL_MS}) sealed with the broker's ticket key. */
export function issueTicket(
  key: Buffer,
  request: TicketRequest,
  now: number,
): { ticket: string; expiresAt: number } {
  const expiresAt = now + TICKET_TTL_MS;
  const ticket = sealTicket(key, {
    id: randomBytes(16).toString('hex'),
    user: request.user,
    desktopId: request.desktop.id,
    host: request.desktop.address,
    port: request.port,
    protocol: request.protocol,
    clientIp: request.clientIp,
    issuedAt: now,
    expiresAt,
    closeAt: Math.max(request.closeAt, expiresAt),
  });
  return { ticket, expiresAt };
}

export interface RedeemDeps {
  readonly ticketKey: Buffer;
  readonly sessions: Html5SessionStore;
  readonly clock: Clock;
}

/**
 * Redeems a ticket a gateway presents (the gateway's request is signed; the caller checked).
 * Nothing is connected here: the answer tells the gateway where to connect.
 * @throws {TicketRefusedError} forged, malformed, expired, issued to another address,
 *   used before, or revoked by a release or sign-out since it was issued.
 */
export async function redeemTicket(
  deps: RedeemDeps,
  request: RedeemRequest,
): Promise<RedeemAnswer> {
  const opened = openTicket(deps.ticketKey, request.ticket);
  if (!opened.ok) throw new TicketRefusedError(opened.reason);
  const { claims } = opened;
  const now = deps.clock.now();
  const checked = checkClaims(claims, { now, clientIp: request.clientIp });
  if (!checked.ok) throw new TicketRefusedError(checked.reason);
  const first = await deps.sessions.redeem({
    key: claims.id,
    user: claims.user,
    desktopId: claims.desktopId,
    gateway: request.gateway,
    clientIp: claims.clientIp,
    desktopHost: claims.host,
    desktopPort: claims.port,
    redeemedAt: now,
    closeAt: claims.closeAt,
    ticketExpiresAt: claims.expiresAt,
  });
  if (!first) throw new TicketRefusedError('replayed');
  // After the record is written: a release that recorded its closing before this read is
  // seen here; one that comes later finds the record and closes the bridge itself.
  if (await deps.sessions.revokedSince(claims.user, claims.desktopId, claims.issuedAt)) {
    await deps.sessions.closeForUser(claims.user, claims.desktopId, now);
    throw new TicketRefusedError('revoked');
  }
  return {
    key: claims.id,
    user: claims.user,
    desktopId: claims.desktopId,
    desktopHost: claims.host,
    desktopPort: claims.port,
    protocol: claims.protocol,
    closeAt: claims.closeAt,
  };
}
