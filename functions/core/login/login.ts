/**
 * Signing in (authenticate, locate the client, assign role and policy, check MFA, offer
 * desktops), signing out, and finding the session behind a request's token.
 */

import type { Clock } from '../clock.ts';
import {
  buildOffers,
  candidateLimit,
  type Offer,
  offerPoolIds,
  type ReachabilityProbe,
  resolveEntries,
} from '../desktops/offers.ts';
import type { DesktopStore } from '../desktops/ports.ts';
import {
  AppError,
  ForbiddenError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../errors.ts';
import { type LeasingDeps, leasedIdentity, siteOrLeases } from '../leasing/leased-mode.ts';
import { leasedOffers } from '../leasing/leases.ts';
import type { AuthType, LoginResult } from '../metrics/catalogue.ts';
import type { Metrics } from '../metrics/ports.ts';
import type { SecretOpener } from '../secrets/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';
import { storableText } from '../text.ts';
import { firstAssignment } from './assignments.ts';
import { type AuthDeps, authenticate, type Identity } from './authenticate.ts';
import { RECORDED_HEADER_LENGTH } from './client-limits.ts';
import { type ClientAttributes, locationsOf } from './locations.ts';
import type { SessionStore, ThrottleStore } from './ports.ts';
import { hashToken, needsTouch, newToken, type Session, type SessionLimits } from './sessions.ts';

export interface SessionDeps {
  readonly sessions: SessionStore;
  readonly clock: Clock;
  readonly limits: SessionLimits;
}

export interface LoginDeps extends SessionDeps, AuthDeps {
  /** Leased mode; without it a database outage is a 503. */
  readonly leasing?: LeasingDeps;
  readonly snapshot: SiteSnapshotSource;
  /** Opens a user's stored (sealed) TOTP secret, only to check a code. */
  readonly secrets: SecretOpener;
  readonly throttle: ThrottleStore;
  readonly throttleLimits: { readonly maxFailures: number; readonly lockoutSeconds: number };
  readonly desktops: DesktopStore;
  readonly probe: ReachabilityProbe;
  /** Every failed login takes at least this long, so timing tells nothing. */
  readonly failureFloorMs: number;
  /** Sign-ins by result and authentication-server type, and their duration. */
  readonly metrics: Metrics;
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

/** A login outcome and the kind of server that vouched for the user (for the metrics). */
type Counted = LoginOutcome & { readonly authType: AuthType };

/** The role of the built-in administrator. */
export const BUILTIN_ADMIN_ROLE = 'Administrator';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Signs a user in and returns a new session and the offer list. Every attempt leaves a log
 * row: a successful one its `login` row (written with the client registration), a refused one
 * a `login_failed` row whose detail is the reason's code (to the outbox while the site
 * database is down).
 * @throws {TooManyRequestsError} while the account or the source address is locked out.
 * @throws {UnauthorizedError} `invalid_credentials`, `mfa_required`, `invalid_mfa_code`.
 * @throws {ForbiddenError} `no_assignment` when no assignment rule matches the user.
 * @throws {AuthServerUnavailableError | DatabaseUnavailableError} when a backing service is down.
 */
export async function login(deps: LoginDeps, input: LoginInput): Promise<LoginOutcome> {
  const started = deps.clock.now();
  const userKey = `user:${input.username.toLowerCase()}`;
  const keys = [userKey, `ip:${input.client.ip}`];
  const counted = (result: LoginResult, authType: AuthType, mode: Session['mode']) => {
    deps.metrics.count('logins', { result, authType, mode });
    if (result === 'succeeded' || result === 'failed') {
      deps.metrics.observe('loginLatency', deps.clock.now() - started, { result });
    }
  };
  // Where a failure happened: leased mode while the breaker keeps the database away.
  const modeNow = () =>
    deps.leasing && deps.leasing.breaker.state !== 'closed' ? 'leased' : 'normal';
  try {
    const throttled = await deps.throttle.check(keys, started);
    const locked = throttled.lockedSeconds;
    if (locked > 0) {
      throw new TooManyRequestsError(
        `too many failed sign-ins; try again in ${Math.ceil(locked)} seconds`,
        locked,
      );
    }
    const { authType, ...outcome } = deps.leasing
      ? await siteOrLeases<Counted>(
          deps.leasing,
          () => normalLogin(deps, input),
          () => leasedLogin(deps, deps.leasing!, input),
        )
      : await normalLogin(deps, input);
    if (throttled.failing.includes(userKey)) await deps.throttle.clear(userKey, deps.clock.now());
    counted('succeeded', authType, outcome.session.mode);
    return outcome;
  } catch (e: unknown) {
    if (e instanceof UnauthorizedError && e.code !== 'mfa_required') {
      await deps.throttle.recordFailure(keys, deps.clock.now(), deps.throttleLimits);
    }
    await logFailedLogin(deps, {
      user: input.username,
      clientIp: input.client.ip,
      detail: e instanceof AppError ? e.code : 'error',
    });
    // A lockout answers at once: it tells nothing about the account.
    if (!(e instanceof TooManyRequestsError)) {
      await sleep(Math.max(0, deps.failureFloorMs - (deps.clock.now() - started)));
    }
    const result = failureResult(e);
    if (result) counted(result, 'none', modeNow());
    throw e;
  }
}

/** How a failed sign-in counts; undefined for the MFA prompt (the next attempt counts). */
function failureResult(e: unknown): LoginResult | undefined {
  if (e instanceof UnauthorizedError && e.code === 'mfa_required') return undefined;
  if (e instanceof TooManyRequestsError) return 'throttled';
  if (e instanceof ServiceUnavailableError) return 'unavailable';
  if (e instanceof AppError && e.status < 500) return 'failed';
  return 'error';
}

/** The kind of server that vouched for an identity. */
function authTypeOf(config: SiteConfig, identity: Identity): AuthType {
  if (identity.builtinAdmin) return 'builtin';
  return byName(config.authServers, identity.authServer)?.type ?? 'none';
}

/**
 * Writes the `login_failed` row of a refused sign-in: to the site database, or to the outbox
 * while it does not answer (leased mode). Never throws: a refused sign-in stays refused for
 * the reason it was, even when its row cannot be written anywhere.
 */
export async function logFailedLogin(
  deps: Pick<LoginDeps, 'desktops' | 'leasing' | 'clock'>,
  failure: { readonly user: string | null; readonly clientIp: string; readonly detail: string },
): Promise<void> {
  const entry = { event: 'login_failed', ...failure };
  const leasing = deps.leasing;
  const toOutbox = async () => {
    await leasing?.outbox.append([{ kind: 'log', entry, at: deps.clock.now() }]).catch(() => {});
  };
  if (leasing && leasing.breaker.state !== 'closed') return toOutbox();
  const write = () => deps.desktops.appendLog([entry]);
  await (leasing ? leasing.withDeadline(write) : write()).catch(toOutbox);
}

/** Role, admin flag and policy from the first matching assignment; checks MFA when it asks. */
async function assign(
  deps: LoginDeps,
  config: SiteConfig,
  identity: Identity,
  locations: string[],
  mfaCode: string | undefined,
): Promise<{ role: string; isAdmin: boolean; policy: string | null }> {
  if (identity.builtinAdmin) return { role: BUILTIN_ADMIN_ROLE, isAdmin: true, policy: null };
  const match = firstAssignment(config, identity.groups, locations);
  if (!match)
    throw new ForbiddenError('no_assignment', 'no assignment rule gives you a role and policy');
  if (match.rule.mfa === 'totp') await checkTotp(deps, identity, mfaCode);
  return {
    role: match.rule.role,
    isAdmin: byName(config.roles, match.rule.role)?.admin ?? false,
    policy: match.rule.policy,
  };
}

/** Login with the site database: authenticate, assign, register the client, offer desktops. */
async function normalLogin(deps: LoginDeps, input: LoginInput): Promise<Counted> {
  const snapshot = await deps.snapshot.get();
  const { config } = snapshot;
  const locations = locationsOf(config, input.client).map((l) => l.name);
  const identity = await authenticate(deps, config, input);
  const {
    role,
    isAdmin,
    policy: policyName,
  } = await assign(deps, config, identity, locations, input.mfaCode);
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
  return { token, session, offers, authType: authTypeOf(config, identity) };
}

/**
 * Login while the site database is down: the same authentication (local accounts from their
 * mirrored verifiers), the user's leases as offers, the login logged to the outbox.
 */
async function leasedLogin(
  deps: LoginDeps,
  leasing: LeasingDeps,
  input: LoginInput,
): Promise<Counted> {
  const { config } = await leasing.snapshot.get();
  const { identity, leases } = await leasedIdentity({ ...deps, leasing }, config, input);
  const locations = locationsOf(config, input.client).map((l) => l.name);
  let role = 'User';
  if (config.assignments.length > 0) {
    role = (await assign(deps, config, identity, locations, input.mfaCode)).role;
  } else if (identity.mfaSecret) {
    // Only the mirror is at hand (no assignment rules): an enrolled user always gives the code.
    await checkTotp(deps, identity, input.mfaCode);
  }
  const now = deps.clock.now();
  await leasing.outbox.append([
    {
      kind: 'log',
      at: now,
      entry: {
        event: 'login',
        user: identity.user,
        clientIp: input.client.ip,
        detail: `${identity.authServer} (leased)`,
      },
    },
  ]);
  const { token, session } = await startSession(deps, {
    user: identity.user,
    authServer: identity.authServer,
    groups: identity.groups,
    role,
    isAdmin: false,
    policy: null,
    clientIp: input.client.ip,
    clientId: null,
    loginGateway: input.client.loginGateway,
    locations,
    mode: 'leased',
  });
  return {
    token,
    session,
    offers: leasedOffers(leases, now),
    authType: authTypeOf(config, identity),
  };
}

/** The headers the site records with each client registration (`settings.clientHeaders`). */
function recordedHeaders(
  names: readonly string[],
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value !== undefined) out[name.toLowerCase()] = storableText(value, RECORDED_HEADER_LENGTH);
  }
  return out;
}

/**
 * @throws {UnauthorizedError} `mfa_required` without a code, `invalid_mfa_code` for a wrong one.
 * @throws {ForbiddenError} `mfa_not_enrolled` when the user has no TOTP secret.
 * @throws {SecretUnavailableError} when the stored secret cannot be opened on this broker.
 */
async function checkTotp(
  deps: Pick<LoginDeps, 'secrets' | 'clock'>,
  identity: Identity,
  code: string | undefined,
): Promise<void> {
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
  // The secret is stored sealed: opened here, for this check only.
  const secret = await deps.secrets.open(identity.mfaSecret);
  // otplib loads only for the accounts that use MFA (a chunk of its own in the bundles).
  const { verifyTotp } = await import('./mfa.ts');
  if (!(await verifyTotp(secret, code, deps.clock.now()))) {
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
