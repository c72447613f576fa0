/**
 * What a signed-in user does with desktops: refresh the offer list, connect (claim the
 * desktop, pick the protocol, open the path, hand back a launch file), release, sign out.
 */

import type { Clock } from '../clock.ts';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import {
  type LeasingDeps,
  leasedConnect,
  leasedOfferList,
  leasedSignOff,
  siteOrLeases,
} from '../leasing/leased-mode.ts';
import { isLeasable, leaseForLaunch } from '../leasing/leases.ts';
import type { SessionStore } from '../login/ports.ts';
import { hashToken, type Session } from '../login/sessions.ts';
import type { Metrics } from '../metrics/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import { byName, type SiteSnapshot } from '../site-config/snapshot.ts';
import { openInBrowser } from './browser-connect.ts';
import {
  type BrowserConnection,
  type ClientConnection,
  type Connection,
  connectionAnswer,
  type Display,
} from './connection.ts';
import {
  buildOffers,
  candidateLimit,
  entryForPool,
  type Offer,
  offerPoolIds,
  type ReachabilityProbe,
  type ResolvedEntry,
  resolveEntries,
} from './offers.ts';
import type { ClaimRequest, DesktopStore, ReleaseRules } from './ports.ts';
import {
  chooseProtocol,
  type ProtocolEntry,
  planForDesktop,
  resolvePlan,
} from './protocol-plans.ts';

export interface DesktopDeps {
  readonly clock: Clock;
  /** Leased mode; without it a database outage is a 503. */
  readonly leasing?: LeasingDeps;
  readonly snapshot: SiteSnapshotSource;
  readonly desktops: DesktopStore;
  readonly probe: ReachabilityProbe;
  readonly gateways: GatewayRouter;
  /** Seals HTML5 tickets; undefined without a gateway secret. */
  readonly ticketKey?: Buffer;
  /** Connects by path and mode, releases by mode. */
  readonly metrics: Metrics;
}

export type { Connection };

/** How a connect is asked for. */
export interface ConnectOptions {
  /** A protocol of the desktop's plan; default its first (for the browser, its first the browser shows). */
  readonly protocol?: string;
  /** `client` (default): a launch file or URI; `browser`: a gateway WebSocket URL and a ticket. */
  readonly display?: Display;
  /** The address of the client asking, bound into an HTML5 ticket; default the session's. */
  readonly clientIp?: string;
}

function entriesOf(snapshot: SiteSnapshot, session: Session): ResolvedEntry[] {
  const policy = byName(snapshot.config.policies, session.policy ?? undefined);
  return policy ? resolveEntries(snapshot, policy) : [];
}

/** The user's offer list, read afresh. */
async function normalOffers(deps: DesktopDeps, session: Session): Promise<Offer[]> {
  const snapshot = await deps.snapshot.get();
  const entries = entriesOf(snapshot, session);
  const desktops = await deps.desktops.offerCandidates({
    user: session.user,
    poolIds: offerPoolIds(entries),
    perPool: candidateLimit(entries),
  });
  return buildOffers({
    config: snapshot.config,
    user: session.user,
    locations: session.locations,
    entries,
    desktops,
    probe: deps.probe,
  });
}

/** Release behaviour by pool: a desktop follows the entry it is offered under. */
export function releaseRules(entries: readonly ResolvedEntry[]): ReleaseRules {
  const rules = new Map<number, { release: ResolvedEntry['release']; delaySeconds: number }>();
  for (const e of [...entries].reverse()) {
    const rule = { release: e.release, delaySeconds: e.releaseDelaySeconds };
    if (e.backupPoolId !== undefined) rules.set(e.backupPoolId, rule);
  }
  for (const e of [...entries].reverse())
    rules.set(e.poolId, { release: e.release, delaySeconds: e.releaseDelaySeconds });
  return rules;
}

/**
 * Connects the user to a desktop: claims it atomically (or another free desktop of the same
 * pool when it was just taken) with its log row in the same statement, opens the path, and
 * returns what the client needs.
 * @throws {NotFoundError} `unknown_desktop`; {@link ForbiddenError} `not_your_desktop`;
 *   {@link ConflictError} `no_desktop_available`; BadRequest `unsupported_protocol`.
 */
async function normalConnect(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
  options: ConnectOptions = {},
): Promise<Connection> {
  const snapshot = await deps.snapshot.get();
  const entries = entriesOf(snapshot, session);
  const display = options.display ?? 'client';
  const choice = (entry: ResolvedEntry | undefined) => {
    const plan = resolvePlan(snapshot.config, entry, session.locations);
    try {
      return chooseProtocol(plan, options.protocol, display);
    } catch {
      return undefined;
    }
  };
  const detail = (p: ProtocolEntry) =>
    `${p.protocol}${p.gateway ? ` via ${p.gateway}` : ' direct'}${display === 'browser' ? ' (browser)' : ''}`;
  const policyPoolIds = offerPoolIds(entries);
  const logDetails = new Map<number, string>();
  for (const id of policyPoolIds) {
    const p = choice(entryForPool(entries, id));
    if (p) logDetails.set(id, detail(p));
  }
  const fallback = choice(undefined);
  const request: ClaimRequest = {
    user: session.user,
    desktopId,
    policyPoolIds,
    claimablePoolIds: [...logDetails.keys()],
    otherPoolsClaimable: fallback !== undefined,
    releaseRules: releaseRules(entries),
    logDetails,
    defaultDetail: fallback ? detail(fallback) : '',
    clientIp: session.clientIp,
  };
  const claimed = await deps.desktops.claim(request);
  if (!claimed) {
    const why = await deps.desktops.whyNotClaimed(request);
    if (why === 'unknown_desktop')
      throw new NotFoundError('unknown_desktop', `there is no desktop ${desktopId}`);
    if (why === 'not_yours')
      throw new ForbiddenError('not_your_desktop', 'that desktop is not offered to you');
    if (why === 'unsupported_protocol' && display === 'browser') {
      throw new BadRequestError(
        'browser_display_unavailable',
        'that desktop cannot be shown in the browser; use the launch file',
      );
    }
    if (why === 'unsupported_protocol') {
      throw new BadRequestError(
        'unsupported_protocol',
        `that desktop is not offered with ${options.protocol}`,
      );
    }
    throw new ConflictError(
      'no_desktop_available',
      'no desktop of that pool is free any more; refresh your offers',
    );
  }
  const entry = entryForPool(entries, claimed.poolId);
  // The desktop's own ports, over the plan's: the forward, the ticket, the launch file and
  // the lease use them.
  const plan = planForDesktop(
    resolvePlan(snapshot.config, entry, session.locations),
    claimed.ports,
  );
  const protocol = chooseProtocol(plan, options.protocol, display);
  const desktop = { id: claimed.id, name: claimed.name, address: claimed.address };
  const answer =
    display === 'browser'
      ? await openInBrowser(deps, {
          session,
          desktop,
          protocol,
          clientIp: options.clientIp ?? session.clientIp,
        })
      : connectionAnswer({
          desktop: claimed,
          protocol: protocol.protocol,
          path: await deps.gateways.open({
            user: session.user,
            desktop,
            protocol,
            clientIp: session.clientIp,
            loginGateway: session.loginGateway,
            expiresAt: session.expiresAt,
          }),
          user: session.user,
        });
  if (
    deps.leasing &&
    isLeasable(claimed, session.user) &&
    snapshot.config.settings.leasing.enabled
  ) {
    const now = deps.clock.now();
    await deps.leasing.leases.record(
      leaseForLaunch(
        {
          user: session.user,
          authServer: session.authServer,
          desktopId: claimed.id,
          desktopName: claimed.name,
          address: claimed.address,
          pool: entry?.pool ?? snapshot.poolNames.get(claimed.poolId) ?? '',
          launch: { protocol: protocol.protocol, protocols: [...plan.protocols] },
        },
        now,
        snapshot.config.settings.leasing.days,
      ),
    );
  }
  return answer;
}

/**
 * Gives a desktop the user holds back to its pool and closes its forwards.
 * @throws {NotFoundError} `not_held` when the user does not hold it.
 */
async function normalRelease(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
): Promise<void> {
  const released = await deps.desktops.release(session.user, desktopId, session.clientIp);
  if (!released) throw new NotFoundError('not_held', `you do not hold desktop ${desktopId}`);
  await deps.gateways.closeForUser(session.user, desktopId);
}

/**
 * Signs out: ends the session, releases the user's idle desktops whose rule is `on_logout`,
 * and closes the user's gateway forwards. An unknown token is not an error.
 */
async function normalLogout(
  deps: DesktopDeps & { readonly sessions: SessionStore },
  session: Session | undefined,
  token: string | undefined,
): Promise<void> {
  if (token) await deps.sessions.delete(hashToken(token));
  if (!session) return;
  await deps.desktops.releaseOnLogout(session.user, session.clientIp);
  await deps.gateways.closeForUser(session.user);
}

/** The user's offer list: from the site database, or the user's leases in leased mode. */
export async function listOffers(
  deps: DesktopDeps,
  session: Session,
): Promise<{ mode: 'normal' | 'leased'; offers: Offer[] }> {
  type Result = { mode: 'normal' | 'leased'; offers: Offer[] };
  const leasing = deps.leasing;
  if (!leasing) return { mode: 'normal', offers: await normalOffers(deps, session) };
  return siteOrLeases<Result>(
    leasing,
    async () => ({ mode: 'normal', offers: await normalOffers(deps, session) }),
    async () => ({
      mode: 'leased',
      offers: await leasedOfferList({ leasing, clock: deps.clock }, session),
    }),
  );
}

/**
 * Connects the user to a desktop (see the normal path above); while the site database is
 * down, re-launches a leased desktop from its lease. The answer is a {@link ClientConnection}
 * or, with `display: "browser"`, a {@link BrowserConnection}.
 */
export async function connect(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
  options?: ConnectOptions & { readonly display?: 'client' },
): Promise<ClientConnection & { mode: 'normal' | 'leased' }>;
export async function connect(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
  options: ConnectOptions & { readonly display: 'browser' },
): Promise<BrowserConnection & { mode: 'normal' | 'leased' }>;
export async function connect(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
  options?: ConnectOptions,
): Promise<Connection & { mode: 'normal' | 'leased' }>;
export async function connect(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
  options: ConnectOptions = {},
): Promise<Connection & { mode: 'normal' | 'leased' }> {
  type Result = Connection & { mode: 'normal' | 'leased' };
  const leasing = deps.leasing;
  const normal = async (): Promise<Result> => ({
    ...(await normalConnect(deps, session, desktopId, options)),
    mode: 'normal',
  });
  const result = !leasing
    ? await normal()
    : await siteOrLeases<Result>(leasing, normal, async () => {
        const { config } = await leasing.snapshot.get();
        const connection = await leasedConnect(
          {
            leasing,
            clock: deps.clock,
            days: config.settings.leasing.days,
            ticketKey: deps.ticketKey,
          },
          session,
          desktopId,
          options,
        );
        return { ...connection, mode: 'leased' };
      });
  deps.metrics.count('connects', { via: result.via, mode: result.mode });
  return result;
}

/** Gives a desktop back (see the normal path above); in leased mode closes its forwards and logs it. */
export async function release(
  deps: DesktopDeps,
  session: Session,
  desktopId: number,
): Promise<void> {
  const leasing = deps.leasing;
  let mode: 'normal' | 'leased' = 'normal';
  if (!leasing) await normalRelease(deps, session, desktopId);
  else {
    await siteOrLeases(
      leasing,
      () => normalRelease(deps, session, desktopId),
      () => {
        mode = 'leased';
        return leasedSignOff({ leasing, clock: deps.clock }, session, 'release', desktopId);
      },
    );
  }
  deps.metrics.count('releases', { mode });
}

/** Signs out (see the normal path above); in leased mode closes the forwards and logs it. */
export async function logout(
  deps: DesktopDeps & { readonly sessions: SessionStore },
  session: Session | undefined,
  token: string | undefined,
): Promise<void> {
  const leasing = deps.leasing;
  if (!leasing || !session) return normalLogout(deps, session, token);
  return siteOrLeases(
    leasing,
    () => normalLogout(deps, session, token),
    async () => {
      if (token) await deps.sessions.delete(hashToken(token));
      await leasedSignOff({ leasing, clock: deps.clock }, session, 'logout');
    },
  );
}
