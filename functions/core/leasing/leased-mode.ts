/**
 * Leased mode: what logins, offers and launches do while the site database does not answer.
 * The request that meets the failure switches itself (no window of refusals); the circuit
 * breaker then sends the next requests straight here until a probe finds the database back.
 * Users are authenticated as usual (LDAP still answers; local accounts from their mirrored
 * verifiers), see only their unexpired leases, and every event is kept in the outbox.
 */

import type { AgentEventKind } from '../agents/ports.ts';
import type { Clock } from '../clock.ts';
import { openInBrowser } from '../desktops/browser-connect.ts';
import { type Connection, connectionAnswer, type Display } from '../desktops/connection.ts';
import type { Offer } from '../desktops/offers.ts';
import { chooseProtocol } from '../desktops/protocol-plans.ts';
import { DatabaseUnavailableError, ServiceUnavailableError } from '../errors.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import type { AuthDeps, Identity } from '../login/authenticate.ts';
import { authenticate } from '../login/authenticate.ts';
import type { AccountStore } from '../login/ports.ts';
import type { Session } from '../login/sessions.ts';
import type { Metrics } from '../metrics/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type { SiteConfig } from '../site-config/schema.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import { isLive, type Lease, leasedOffers, leaseForLaunch } from './leases.ts';
import type { LeasedModeMirror, LeaseStore, Outbox } from './ports.ts';

export interface LeasingDeps {
  readonly breaker: CircuitBreaker;
  /**
   * The configuration as leased mode reads it: never from the database (the last copy this
   * broker loaded, else the leased-mode copy), so a hanging database holds no leased request.
   */
  readonly snapshot: SiteSnapshotSource;
  readonly leases: LeaseStore;
  readonly mirror: LeasedModeMirror;
  readonly outbox: Outbox;
  /** The gateway router of leased mode: forwards are kept in the state table and the outbox. */
  readonly leasedGateways: GatewayRouter;
  /** Runs the normal path with the request path's short limit on each database statement. */
  readonly withDeadline: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Counts the requests served in leased mode. */
  readonly metrics: Metrics;
}

/** 503 for whoever leased mode cannot serve. */
export const noLeases = (why: string) =>
  new ServiceUnavailableError(
    'site_database_unavailable',
    `the site database is not reachable and ${why}; try again later`,
  );

/**
 * Runs `normal` against the site database, or `leased` when the database does not answer:
 * straight away while the breaker is open, or when `normal` meets the failure itself.
 */
export async function siteOrLeases<T>(
  leasing: Pick<LeasingDeps, 'breaker' | 'withDeadline'> & { readonly metrics?: Metrics },
  normal: () => Promise<T>,
  leasedPath: () => Promise<T>,
): Promise<T> {
  const { breaker } = leasing;
  const leased = () => {
    leasing.metrics?.count('leasedRequests', {});
    return leasedPath();
  };
  if (!breaker.allowRequest()) return leased();
  try {
    const result = await leasing.withDeadline(normal);
    breaker.success();
    return result;
  } catch (e: unknown) {
    if (!(e instanceof DatabaseUnavailableError)) {
      breaker.settle();
      throw e;
    }
    breaker.failure();
    return leased();
  }
}

/** Local accounts as leased mode reads them: from the state table mirror. */
export function mirroredAccounts(mirror: LeasedModeMirror): AccountStore {
  return {
    findLocalAccount: (name, authServer) => mirror.findAccount(name, authServer),
    findBuiltinAdmin: () => mirror.findAccount('admin', null),
    ensureBuiltinAdmin: async () => {
      throw new DatabaseUnavailableError();
    },
  };
}

export interface LeasedLoginDeps extends AuthDeps {
  readonly clock: Clock;
  readonly leasing: LeasingDeps;
}

/**
 * Authenticates in leased mode and returns the user's identity and leases.
 * @throws {ServiceUnavailableError} `site_database_unavailable` when leasing is off, the
 *   user's leases were revoked, or the user has none.
 */
export async function leasedIdentity(
  deps: LeasedLoginDeps,
  config: SiteConfig,
  input: { username: string; password: string; authServer?: string },
): Promise<{ identity: Identity; leases: Lease[] }> {
  const identity = await authenticate(
    {
      accounts: mirroredAccounts(deps.leasing.mirror),
      hasher: deps.hasher,
      directory: deps.directory,
    },
    config,
    input,
  );
  if (!config.settings.leasing.enabled)
    throw noLeases('connection leasing is turned off for this site');
  const { leases, revoked } = await deps.leasing.leases.forUser(identity.user, deps.clock.now());
  if (revoked) throw noLeases('your connection leases were revoked');
  if (leases.length === 0) throw noLeases('you have no leased desktops');
  return { identity, leases };
}

/** The offer list in leased mode. */
export async function leasedOfferList(
  deps: { leasing: LeasingDeps; clock: Clock },
  session: Session,
): Promise<Offer[]> {
  const { leases, revoked } = await deps.leasing.leases.forUser(session.user, deps.clock.now());
  if (revoked) throw noLeases('your connection leases were revoked');
  return leasedOffers(leases, deps.clock.now());
}

/**
 * Launches a leased desktop again: the launch details come from the lease, a gateway forward
 * is re-opened when the plan went through one, the lease is renewed and the launch logged to
 * the outbox.
 */
export async function leasedConnect(
  deps: { leasing: LeasingDeps; clock: Clock; days: number; ticketKey?: Buffer },
  session: Session,
  desktopId: number,
  options: { protocol?: string; display?: Display; clientIp?: string },
): Promise<Connection> {
  const now = deps.clock.now();
  const { leases, revoked } = await deps.leasing.leases.forUser(session.user, now);
  const lease = revoked
    ? undefined
    : leases.find((l) => l.desktopId === desktopId && isLive(l, now));
  if (!lease) throw noLeases(`desktop ${desktopId} is not leased to you`);
  const display = options.display ?? 'client';
  const protocol = chooseProtocol(
    { name: '(leased)', protocols: [...lease.launch.protocols] },
    options.protocol ?? (display === 'browser' ? undefined : lease.launch.protocol),
    display,
  );
  const desktop = { id: lease.desktopId, name: lease.desktopName, address: lease.address };
  const answer =
    display === 'browser'
      ? await openInBrowser(
          { gateways: deps.leasing.leasedGateways, ticketKey: deps.ticketKey, clock: deps.clock },
          { session, desktop, protocol, clientIp: options.clientIp ?? session.clientIp },
        )
      : connectionAnswer({
          desktop,
          protocol: protocol.protocol,
          path: await deps.leasing.leasedGateways.open({
            user: session.user,
            desktop,
            protocol,
            clientIp: session.clientIp,
            loginGateway: session.loginGateway,
            expiresAt: session.expiresAt,
          }),
          user: session.user,
        });
  await deps.leasing.leases.record(
    leaseForLaunch(
      { ...lease, launch: { ...lease.launch, protocol: protocol.protocol } },
      now,
      deps.days,
      lease,
    ),
  );
  await deps.leasing.outbox.append([
    {
      kind: 'log',
      at: now,
      entry: {
        event: 'connect',
        user: session.user,
        desktopId,
        clientIp: session.clientIp,
        detail: `${protocol.protocol} ${answer.via === 'gateway' ? `via ${answer.gateway}` : 'direct'}${display === 'browser' ? ' (browser)' : ''} (leased)`,
      },
    },
  ]);
  return answer;
}

/** Release or logout in leased mode: close the forwards, log to the outbox. */
export async function leasedSignOff(
  deps: { leasing: LeasingDeps; clock: Clock },
  session: Session,
  event: 'release' | 'logout',
  desktopId?: number,
): Promise<void> {
  await deps.leasing.leasedGateways.closeForUser(session.user, desktopId);
  await deps.leasing.outbox.append([
    {
      kind: 'log',
      at: deps.clock.now(),
      entry: {
        event,
        user: session.user,
        desktopId: desktopId ?? null,
        clientIp: session.clientIp,
        detail: 'leased',
      },
    },
  ]);
}

/** An agent event in leased mode: kept in the outbox, applied when the database is back. */
export async function leasedAgentEvent(
  deps: { leasing: LeasingDeps; clock: Clock },
  desktopId: number,
  event: AgentEventKind,
  user: string | null,
): Promise<void> {
  await deps.leasing.outbox.append([
    { kind: 'agent_event', desktopId, event, user, at: deps.clock.now() },
  ]);
}
