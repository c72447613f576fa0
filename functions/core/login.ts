/**
 * Signing in and out, and finding the session behind a request's token.
 */
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import type { AccountStore, Clock, PasswordHasher, SessionStore } from './ports.ts';
import {
  BUILTIN_ADMIN,
  hashToken,
  needsTouch,
  newToken,
  type Session,
  type SessionLimits,
} from './sessions.ts';

export interface SessionDeps {
  readonly sessions: SessionStore;
  readonly clock: Clock;
  readonly limits: SessionLimits;
}

export interface LoginDeps extends SessionDeps {
  readonly accounts: AccountStore;
  readonly hasher: PasswordHasher;
}

export interface LoginInput {
  readonly username: string;
  readonly password: string;
  readonly clientIp: string;
}

export interface LoginResult {
  readonly token: string;
  readonly session: Session;
}

/** The role of the built-in administrator. */
export const BUILTIN_ADMIN_ROLE = 'Administrator';

/**
 * A hash of a random password, verified when the user does not exist, so an unknown user
 * takes as long as a wrong password.
 */
let dummyHash: Promise<string> | undefined;
export function verifyInConstantTime(
  hasher: PasswordHasher,
  hash: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (hash) return hasher.verify(hash, password);
  dummyHash ??= hasher.hash('not-a-real-password-2f6c1d');
  return dummyHash.then((h) => hasher.verify(h, password)).then(() => false);
}

/** Creates a session for an authenticated user; returns the token (shown once) and the session. */
export async function startSession(
  deps: SessionDeps,
  fields: Omit<Session, 'tokenHash' | 'createdAt' | 'lastSeenAt' | 'expiresAt'>,
): Promise<LoginResult> {
  const now = deps.clock.now();
  const { token, tokenHash } = newToken();
  const session: Session = {
    ...fields,
    tokenHash,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + deps.limits.maxHours * 3_600_000,
  };
  await deps.sessions.put(session);
  return { token, session };
}

/**
 * Signs in the built-in administrator.
 * @throws {UnauthorizedError} `invalid_credentials` for a wrong name or password.
 */
export async function loginBuiltinAdmin(deps: LoginDeps, input: LoginInput): Promise<LoginResult> {
  const account =
    input.username.toLowerCase() === BUILTIN_ADMIN
      ? await deps.accounts.findBuiltinAdmin()
      : undefined;
  const ok = await verifyInConstantTime(deps.hasher, account?.passwordHash, input.password);
  if (!account || !ok) throw invalidCredentials();
  return startSession(deps, {
    user: account.name,
    authServer: 'built-in',
    groups: [],
    role: BUILTIN_ADMIN_ROLE,
    isAdmin: true,
    policy: null,
    clientIp: input.clientIp,
    clientId: null,
    loginGateway: null,
    locations: [],
    mode: 'normal',
  });
}

export const invalidCredentials = () =>
  new UnauthorizedError('invalid_credentials', 'wrong user name or password');

/**
 * The live session behind a token, its idle timer extended.
 * @throws {UnauthorizedError} for a missing, unknown or expired token.
 */
export async function sessionFor(deps: SessionDeps, token: string | undefined): Promise<Session> {
  if (!token) throw new UnauthorizedError('unauthorized', 'sign in first (POST /api/v1/login)');
  const tokenHash = hashToken(token);
  const session = await deps.sessions.get(tokenHash);
  if (!session)
    throw new UnauthorizedError('session_expired', 'your session has ended; sign in again');
  const now = deps.clock.now();
  if (needsTouch(session, now)) {
    await deps.sessions.touch(tokenHash, now);
    return { ...session, lastSeenAt: now };
  }
  return session;
}

/** @throws {ForbiddenError} unless the session belongs to an administrator. */
export function requireAdmin(session: Session): Session {
  if (!session.isAdmin) throw new ForbiddenError('admin_only', 'this needs an administrator');
  return session;
}

/** Ends the session behind `token`; an unknown token is not an error. */
export async function logout(deps: SessionDeps, token: string | undefined): Promise<void> {
  if (token) await deps.sessions.delete(hashToken(token));
}
