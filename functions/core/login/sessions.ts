/**
 * Session tokens and their lifetimes. A token is 256 random bits, handed to the client once;
 * the broker keeps only its SHA-256 hash. A session ends at whichever comes first: its idle
 * limit (extended on use) or its absolute limit.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The built-in administrator account: always present, always an administrator. */
export const BUILTIN_ADMIN = 'admin';
export const SESSION_COOKIE = 'deskbroker_session';

export interface Session {
  readonly tokenHash: string;
  readonly user: string;
  readonly authServer: string;
  readonly groups: readonly string[];
  readonly role: string;
  readonly isAdmin: boolean;
  readonly policy: string | null;
  readonly clientIp: string;
  readonly clientId: number | null;
  readonly loginGateway: string | null;
  readonly locations: readonly string[];
  readonly mode: 'normal' | 'leased';
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Absolute end, epoch milliseconds. */
  readonly expiresAt: number;
}

export interface SessionLimits {
  readonly idleMinutes: number;
  readonly maxHours: number;
}

/** A fresh random token (base64url, 256 bits) and the hash to store. */
export function newToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** When the session stops being valid, given its last use. */
export function sessionEnd(
  session: Pick<Session, 'lastSeenAt' | 'expiresAt'>,
  limits: SessionLimits,
): number {
  return Math.min(session.expiresAt, session.lastSeenAt + limits.idleMinutes * 60_000);
}

export function isSessionLive(
  session: Pick<Session, 'lastSeenAt' | 'expiresAt'>,
  limits: SessionLimits,
  now: number,
): boolean {
  return now < sessionEnd(session, limits);
}

/** Whether to write a new `lastSeenAt`: at most once a minute, to spare the state table. */
export function needsTouch(session: Pick<Session, 'lastSeenAt'>, now: number): boolean {
  return now - session.lastSeenAt >= 60_000;
}
