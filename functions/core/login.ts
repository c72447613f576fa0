/**
 * Signing in (authenticate, locate the client, assign role and policy, check MFA, offer
 * desktops), signing out, and finding the session behind a request's token.
 */
import { firstAssignment } from './assignments.ts';
import { type AuthDeps, authenticate, type Identity } from './authenticate.ts';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from './errors.ts';
import { type ClientAttributes, locationsOf } from './locations.ts';
import { verifyTotp } from './mfa.ts';
import {
  buildOffers,
  candidateLimit,
  type Offer,
  offerPoolIds,
  type ReachabilityProbe,
  resolveEntries,
} from './offers.ts';
import type {
  Clock,
  DesktopStore,
  SessionStore,
  SiteSnapshotSource,
  ThrottleStore,
} from './ports.ts';
import { hashToken, needsTouch, newToken, type Session, type SessionLimits } from './sessions.ts';
import { byName } from './site-snapshot.ts';

export interface SessionDeps {
  readonly sessions: SessionStore;
  readonly clock: Clock;
  readonly limits: SessionLimits;
}

export interface LoginDeps extends SessionDeps, AuthDeps {
  readonly snapshot: SiteSnapshotSource;
  readonly throttle: ThrottleStore;
  readonly throttleLimits: { readonly maxFailures: number; readonly lockoutSeconds: number };
  readonly desktops: DesktopStore;
  readonly probe: ReachabilityProbe;
  /** Every failed login takes at least this long, so timing tells nothing. */
  readonly failureFloorMs: number;
}

export interface LoginInput {
  readonly username: string;
  readonly password: string;
  readonly authServer?: string;
  readonly mfaCode?: string;
  readonly client: ClientAttributes;
  /** Attributes the client reported of itself, recorded with its registration. */
  readonly reported: Readonly<Record<string, string>>;
}

export interface LoginOutcome {
  readonly token: string;
  readonly session: Session;
  readonly offers: Offer[];
}

/** The role of the built-in administrator. */
export const BUILTIN_ADMIN_ROLE = 'Administrator';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Signs a user in and returns a new session and the offer list.
 * @throws {TooManyRequestsError} while the account or the source address is locked out.
 * @throws {UnauthorizedError} `invalid_credentials`, `mfa_required`, `invalid_mfa_code`.
 * @throws {ForbiddenError} `no_assignment` when no assignment rule matches the user.
 * @throws {AuthServerUnavailableError | DatabaseUnavailableError} when a backing service is down.
 */
export async function login(deps: LoginDeps, input: LoginInput): Promise<LoginOutcome> {
  const started = deps.clock.now();
  const userKey = `user:${input.username.toLowerCase()}`;
  const keys = [userKey, `ip:${input.client.ip}`];
  const throttled = await deps.throttle.check(keys, started);
  const locked = throttled.lockedSeconds;
  if (locked > 0) {
    throw new TooManyRequestsError(
      `too many failed sign-ins; try again in ${Math.ceil(locked)} seconds`,
      locked,
    );
  }
  const snapshot = await deps.snapshot.get();
  const { config } = snapshot;

  let identity: Identity;
  let role: string;
  let isAdmin: boolean;
  let policyName: string | null = null;
  const locations = locationsOf(config, input.client).map((l) => l.name);
  try {
    identity = await authenticate(deps, config, input);
    if (identity.builtinAdmin) {
      role = BUILTIN_ADMIN_ROLE;
      isAdmin = true;
    } else {
      const match = firstAssignment(config, identity.groups, locations);
      if (!match)
        throw new ForbiddenError('no_assignment', 'no assignment rule gives you a role and policy');
      if (match.rule.mfa === 'totp') await checkTotp(identity, input.mfaCode, deps.clock.now());
      role = match.rule.role;
      isAdmin = byName(config.roles, match.rule.role)?.admin ?? false;
      policyName = match.rule.policy;
    }
  } catch (e: unknown) {
    if (e instanceof UnauthorizedError && e.code !== 'mfa_required') {
      await deps.throttle.recordFailure(keys, deps.clock.now(), deps.throttleLimits);
      await deps.desktops
        .appendLog([
          {
            event: 'login_failed',
            user: input.username,
            clientIp: input.client.ip,
            detail: e.code,
          },
        ])
        .catch(() => {});
    }
    await sleep(Math.max(0, deps.failureFloorMs - (deps.clock.now() - started)));
    throw e;
  }
  if (throttled.failing.includes(userKey)) await deps.throttle.clear(userKey);

  const policy = byName(config.policies, policyName ?? undefined);
  const entries = policy ? resolveEntries(snapshot, policy) : [];
  const { clientId, desktops } = await deps.desktops.recordLogin(
    {
      user: identity.user,
      client: {
        name: input.client.name,
        ip: input.client.ip,
        loginGateway: input.client.loginGateway,
        attributes: {
          ...recordedHeaders(config.settings.clientHeaders, input.client.headers),
          ...input.reported,
        },
      },
      detail: identity.authServer,
    },
    { user: identity.user, poolIds: offerPoolIds(entries), perPool: candidateLimit(entries) },
  );
  const offers = await buildOffers({
    config,
    user: identity.user,
    locations,
    entries,
    desktops,
    probe: deps.probe,
  });
  const { token, session } = await startSession(deps, {
    user: identity.user,
    authServer: identity.authServer,
    groups: identity.groups,
    role,
    isAdmin,
    policy: policy?.name ?? null,
    clientIp: input.client.ip,
    clientId,
    loginGateway: input.client.loginGateway,
    locations,
    mode: 'normal',
  });
  return { token, session, offers };
}

/** The headers the site records with each client registration (`settings.clientHeaders`). */
function recordedHeaders(
  names: readonly string[],
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value !== undefined) out[name.toLowerCase()] = value.slice(0, 512);
  }
  return out;
}

/**
 * @throws {UnauthorizedError} `mfa_required` without a code, `invalid_mfa_code` for a wrong one.
 * @throws {ForbiddenError} `mfa_not_enrolled` when the user has no TOTP secret.
 */
async function checkTotp(identity: Identity, code: string | undefined, now: number): Promise<void> {
  if (!identity.mfaSecret) {
    throw new ForbiddenError(
      'mfa_not_enrolled',
      'your sign-in needs a one-time code, but you have no authenticator enrolled',
    );
  }
  if (!code)
    throw new UnauthorizedError(
      'mfa_required',
      'enter the one-time code from your authenticator (mfaCode)',
    );
  if (!(await verifyTotp(identity.mfaSecret, code, now))) {
    throw new UnauthorizedError('invalid_mfa_code', 'the one-time code is wrong or has expired');
  }
}

/** Creates a session for an authenticated user; returns the token (shown once) and the session. */
export async function startSession(
  deps: SessionDeps,
  fields: Omit<Session, 'tokenHash' | 'createdAt' | 'lastSeenAt' | 'expiresAt'>,
): Promise<{ token: string; session: Session }> {
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
