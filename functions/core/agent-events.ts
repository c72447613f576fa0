/**
 * Desktop agents report what happens on their desktop: login, logout, disconnect,
 * reconnect, heartbeat. Each event updates who is on the desktop and releases it per the
 * policy the desktop was claimed under (on_logout, on_disconnect after a delay, never).
 */
import { BadRequestError, UnauthorizedError } from './errors.ts';
import type {
  AgentEventKind,
  AgentEventResult,
  AgentStore,
  Clock,
  GatewayRouter,
} from './ports.ts';
import { hashAgentKey } from './site-config/apply.ts';

export interface AgentDeps {
  readonly agents: AgentStore;
  readonly gateways: GatewayRouter;
  readonly clock: Clock;
}

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
  const desktop = await deps.agents.desktopByAgentKey(hashAgentKey(agentKey));
  if (!desktop)
    throw new UnauthorizedError('unknown_agent', 'that agent key belongs to no desktop');
  if (event.event === 'login' && !event.user) {
    throw new BadRequestError('user_required', 'a login event names the user');
  }
  const result = await deps.agents.applyEvent(
    desktop.id,
    event.event,
    event.user ?? null,
    deps.clock.now(),
  );
  if (result.released) await deps.gateways.closeForUser(result.released, desktop.id);
  return result;
}
