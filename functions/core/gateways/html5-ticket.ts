/**
 * The HTML5 ticket and its redeem call: the one contract between the broker, which issues
 * tickets and redeems them, and the gateways, which take a browser's WebSocket with a ticket
 * and redeem it before bridging to the desktop (STYLE.md rule 11: both import this module).
 *
 * A ticket is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the secret the
 * broker shares with its gateways: the tag authenticates it (a forged or altered ticket does
 * not open), and the encryption keeps the desktop's address out of the browser. It is good for
 * at most {@link TICKET_MAX_TTL_MS}, names the desktop's host and port and the client address
 * that asked for it, and is single use: the broker records each redeemed ticket id in the
 * state table with a conditional write.
 *
 * Wire form: `v1.` + base64url(12-byte IV ‖ ciphertext ‖ 16-byte tag); the plaintext is the
 * JSON of {@link TicketClaims}. Pure: node:crypto and zod, no I/O.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeIp } from '../ip-range.ts';
import * as z from '../zod.ts';
import { BROWSER_PROTOCOLS, CLOSE_CODES } from './html5-wire.ts';

export {
  BRIDGE_PROTOCOL,
  BROWSER_PROTOCOLS,
  type BrowserProtocol,
  CLOSE_CODES,
  HTML5_PATH,
  KEEPALIVE_MS,
  ticketFromProtocols,
  ticketProtocol,
} from './html5-wire.ts';

/** Where a gateway redeems a ticket at the broker (signed like every gateway → broker call). */
export const REDEEM_PATH = '/api/v1/gateway/tickets/redeem';
/** Longest a ticket is valid. */
export const TICKET_MAX_TTL_MS = 60_000;
/** How long the broker makes tickets valid: enough to load the desktop page and connect. */
export const TICKET_TTL_MS = 30_000;
/** Longest ticket string accepted (a real one is about 400 characters). */
export const TICKET_MAX_LENGTH = 2048;

const VERSION = 'v1';
const AAD = Buffer.from('deskbroker-html5-ticket-v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

const ipAddress = z.pipe(
  z.string().check(
    z.maxLength(64),
    z.refine((v) => isIP(normalizeIp(v)) !== 0, 'must be an IP address'),
  ),
  z.transform(normalizeIp),
);

const epochMs = z.int().check(z.nonnegative());
const ticketId = z.string().check(z.regex(/^[0-9a-f]{32}$/));
const userName = z.string().check(z.minLength(1), z.maxLength(256));
const desktopId = z.int().check(z.positive());

/** What a ticket says. */
export const ticketClaimsSchema = z
  .strictObject({
    /** Random 128-bit id, hex: the single-use record's key and the bridge's key at the gateway. */
    id: ticketId,
    user: userName,
    desktopId,
    /** The desktop's host and port: the only place the gateway will connect to. */
    host: z.string().check(z.minLength(1), z.maxLength(253), z.regex(/^[A-Za-z0-9.:_%-]+$/)),
    port: z.int().check(z.minimum(1), z.maximum(65_535)),
    protocol: z.enum(BROWSER_PROTOCOLS),
    /** The address of the client that asked for the ticket; only it may use it. */
    clientIp: ipAddress,
    issuedAt: epochMs,
    expiresAt: epochMs,
    /** When the bridge closes at the latest: the end of the user's session. */
    closeAt: epochMs,
  })
  .check(
    z.refine((c) => c.expiresAt > c.issuedAt && c.expiresAt - c.issuedAt <= TICKET_MAX_TTL_MS, {
      message: `a ticket is valid for at most ${TICKET_MAX_TTL_MS / 1000} s`,
    }),
  );

export type TicketClaims = z.infer<typeof ticketClaimsSchema>;

/** Why a ticket was refused. */
export const REFUSAL_REASONS = [
  'malformed',
  'forged',
  'expired',
  'wrong_address',
  'replayed',
  'revoked',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The 256-bit sealing key for a shared secret. */
export function ticketKey(secret: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, 'deskbroker', 'deskbroker html5 ticket v1', 32) as ArrayBuffer,
  );
}

/** Seals claims into a ticket string. @throws {z.core.$ZodError} when the claims are not valid. */
export function sealTicket(key: Buffer, claims: TicketClaims): string {
  const plain = Buffer.from(JSON.stringify(ticketClaimsSchema.parse(claims)), 'utf8');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${sealed.toString('base64url')}`;
}

/**
 * Opens a ticket string. Never throws.
 * `malformed`: not a ticket at all; `forged`: it does not open with this key (altered, or
 * sealed with another secret) or what it holds is not a valid claim set.
 */
export function openTicket(
  key: Buffer,
  ticket: unknown,
): { ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'forged' } {
  if (typeof ticket !== 'string' || ticket.length > TICKET_MAX_LENGTH) {
    return { ok: false, reason: 'malformed' };
  }
  const [version, body, extra] = ticket.split('.');
  if (version !== VERSION || !body || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body)) {
    return { ok: false, reason: 'malformed' };
  }
  const sealed = Buffer.from(body, 'base64url');
  if (sealed.length <= IV_BYTES + TAG_BYTES) return { ok: false, reason: 'malformed' };
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(AAD);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    plain = Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return { ok: false, reason: 'forged' };
  }
  let json: unknown;
  try {
    json = JSON.parse(plain.toString('utf8'));
  } catch {
    return { ok: false, reason: 'forged' };
  }
  const parsed = ticketClaimsSchema.safeParse(json);
  return parsed.success ? { ok: true, claims: parsed.data } : { ok: false, reason: 'forged' };
}

/**
 * Checks an opened ticket against the clock and the address it is used from.
 * `skewMs` tolerates a clock that runs ahead of the broker's (the gateway's own early check).
 */
export function checkClaims(
  claims: TicketClaims,
  use: { now: number; clientIp: string; skewMs?: number },
): { ok: true } | { ok: false; reason: 'expired' | 'wrong_address' } {
  if (use.now >= claims.expiresAt + (use.skewMs ?? 0)) return { ok: false, reason: 'expired' };
  if (normalizeIp(use.clientIp) !== claims.clientIp) return { ok: false, reason: 'wrong_address' };
  return { ok: true };
}

/** The redeem call's body: the ticket, the address the gateway saw it used from, and who asks. */
export const redeemRequestSchema = z.strictObject({
  ticket: z.string().check(z.minLength(1), z.maxLength(TICKET_MAX_LENGTH)),
  clientIp: ipAddress,
  gateway: z.string().check(z.minLength(1), z.maxLength(200)),
});
export type RedeemRequest = z.infer<typeof redeemRequestSchema>;

/** The broker's answer to a redeemed ticket: where to connect, and until when. */
export const redeemAnswerSchema = z.strictObject({
  key: ticketId,
  user: userName,
  desktopId,
  desktopHost: ticketClaimsSchema.shape.host,
  desktopPort: ticketClaimsSchema.shape.port,
  protocol: z.enum(BROWSER_PROTOCOLS),
  closeAt: epochMs,
});
export type RedeemAnswer = z.infer<typeof redeemAnswerSchema>;

/** The broker's refusal: 403 `{ error: "ticket_<reason>", message, reason }`. */
export const redeemRefusalSchema = z.object({
  error: z.string(),
  message: z.string(),
  reason: z.enum(REFUSAL_REASONS),
});

/** The close code for a refused ticket. */
export function closeCodeFor(reason: RefusalReason): number {
  switch (reason) {
    case 'malformed':
    case 'forged':
      return CLOSE_CODES.ticketInvalid;
    case 'wrong_address':
      return CLOSE_CODES.ticketWrongAddress;
    case 'expired':
      return CLOSE_CODES.ticketExpired;
    case 'replayed':
    case 'revoked':
      return CLOSE_CODES.ticketUsed;
  }
}
