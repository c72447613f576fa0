/**
 * The session behind a request: `Authorization: Bearer <token>` or the session cookie.
 */
import type { ALBEvent } from 'aws-lambda';
import { requireAdmin, sessionFor } from '../../core/login/login.ts';
import { SESSION_COOKIE, type Session } from '../../core/login/sessions.ts';
import { type SessionBroker, sessionDeps } from './deps.ts';
import { cookies, header } from './request.ts';

export function tokenOf(event: ALBEvent): string | undefined {
  const auth = header(event, 'authorization');
  const bearer = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? cookies(event).get(SESSION_COOKIE);
}

/** The cookie that carries the token: HttpOnly, Secure, SameSite=Strict. */
export function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

/** @throws {UnauthorizedError} without a live session. */
export function requireSession(broker: SessionBroker, event: ALBEvent): Promise<Session> {
  return sessionFor(sessionDeps(broker), tokenOf(event));
}

/** @throws {UnauthorizedError | ForbiddenError} unless an administrator is signed in. */
export async function requireAdminSession(
  broker: SessionBroker,
  event: ALBEvent,
): Promise<Session> {
  return requireAdmin(await requireSession(broker, event));
}
