/**
 * Desktop agents report what happens on their desktop: login, logout, disconnect,
 * reconnect, heartbeat. Each event updates who is on the desktop and releases it per the
 * policy the desktop was claimed under (on_logout, on_disconnect after a delay, never).
 * Events of a live session on a hard-assigned desktop extend its user's lease (Citrix:
 * "Leases for long-running active or disconnected ... sessions are extended"): a session that
 * is connected or disconnected after the event, and is its assigned user's. A heartbeat with
 * no session open extends nothing, so a powered-on desktop nobody uses lets its lease
 * expire; an expired lease is never extended (the lease store refuses). In leased mode events
 * go to the outbox, and only events that show a session (login, reconnect, disconnect)
 * extend, as the session state is not known there.
 */

import type { Clock } from '../clock.ts';
import { BadRequestError, UnauthorizedError } from '../errors.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import { type LeasingDeps, leasedAgentEvent, siteOrLeases } from '../leasing/leased-mode.ts';
import { DAY_MS } from '../leasing/leases.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import { hashAgentKey } from './keys.ts';
import type { AgentDesktop, AgentEventKind, AgentEventResult, AgentStore } from './ports.ts';

export interface AgentDeps {
  readonly agents: AgentStore;
  readonly gateways: GatewayRouter;
  readonly clock: Clock;
  readonly snapshot: SiteSnapshotSource;
  readonly leasing?: LeasingDeps;
  /** Remembers when each desktop's lease was last extended (at most one write an hour). */
  readonly extended?: Map<number, number>;
}

const EXTEND_EVERY_MS = 3_600_000;
/** Events that show a session runs, for leased mode where the session state is not known. */
const SHOWS_SESSION: ReadonlySet<AgentEventKind> = new Set(['login', 'reconnect', 'disconnect']);

const stateAfter = (event: AgentEventKind): AgentEventResult['sessionState'] =>
  event === 'logout' ? 'none' : event === 'disconnect' ? 'disconnected' : 'connected';

/**
 * Applies one agent event.
 * @throws {UnauthorizedError} `unknown_agent` for a missing or unknown agent key.
 * @throws {BadRequestError} `user_required` for a login without a user.
 */
export async function handleAgentEvent(
  deps: AgentDeps,
  agentKey: string | undefined,
  event: { event: AgentEventKind; user?: string },
): Promise<AgentEventResult> {
  if (!agentKey)
    throw new UnauthorizedError(
      'unknown_agent',
      'send the agent key as "Authorization: Agent <key>"',
    );
  if (event.event === 'login' && !event.user) {
    throw new BadRequestError('user_required', 'a login event names the user');
  }
  const keyHash = hashAgentKey(agentKey);
  const unknown = () =>
    new UnauthorizedError('unknown_agent', 'that agent key belongs to no desktop');

  const normal = async (): Promise<AgentEventResult> => {
    const desktop = await deps.agents.desktopByAgentKey(keyHash);
    if (!desktop) throw unknown();
    const result = await deps.agents.applyEvent(
      desktop.id,
      event.event,
      event.user ?? null,
      deps.clock.now(),
    );
    if (result.released) await deps.gateways.closeForUser(result.released, desktop.id);
    const sessionUser = event.user ?? desktop.heldBy;
    if (result.sessionState !== 'none') await extendLease(deps, desktop, sessionUser);
    return result;
  };
  const leasing = deps.leasing;
  if (!leasing) return normal();
  return siteOrLeases(leasing, normal, async () => {
    const desktop = await leasing.mirror.findAgentKey(keyHash);
    if (!desktop) throw unknown();
    await leasedAgentEvent(
      { leasing, clock: deps.clock },
      desktop.id,
      event.event,
      event.user ?? null,
    );
    if (SHOWS_SESSION.has(event.event))
      await extendLease(deps, desktop, event.user ?? desktop.heldBy);
    return { desktop, released: null, sessionState: stateAfter(event.event) };
  });
}

/**
 * Pushes the lease of a hard-assigned desktop forward while its assigned user's session runs,
 * hourly at most.
 */
async function extendLease(
  deps: AgentDeps,
  desktop: AgentDesktop,
  sessionUser: string | null,
): Promise<void> {
  const assigned = desktop.assignedUser;
  if (!deps.leasing || !assigned || sessionUser?.toLowerCase() !== assigned.toLowerCase()) return;
  const now = deps.clock.now();
  const last = deps.extended?.get(desktop.id);
  if (last !== undefined && now - last < EXTEND_EVERY_MS) return;
  // Leased mode's view: it never waits on the database (this runs in both modes).
  const { config } = await deps.leasing.snapshot.get();
  if (!config.settings.leasing.enabled) return;
  await deps.leasing.leases.extend(
    assigned,
    desktop.id,
    now + config.settings.leasing.days * DAY_MS,
    now,
  );
  deps.extended?.set(desktop.id, now);
}
