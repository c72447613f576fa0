/**
 * The ports each use case needs, taken from the composed broker.
 */
import type { Broker } from '../../compose.ts';
import type { AgentDeps } from '../../core/agent-events.ts';
import type { DesktopDeps } from '../../core/desktops.ts';
import type { LoginDeps, SessionDeps } from '../../core/login.ts';

export const sessionDeps = (b: Broker): SessionDeps => ({
  sessions: b.sessions,
  clock: b.clock,
  limits: b.sessionLimits,
});

export const desktopDeps = (b: Broker): DesktopDeps => ({
  snapshot: b.snapshot,
  desktops: b.desktops,
  probe: b.probe,
  gateways: b.gateways,
});

export const loginDeps = (b: Broker): LoginDeps => ({
  ...sessionDeps(b),
  ...desktopDeps(b),
  accounts: b.accounts,
  hasher: b.hasher,
  directory: b.directory,
  throttle: b.throttle,
  throttleLimits: b.config.throttle,
  failureFloorMs: b.config.loginFailureFloorMs,
});

export const agentDeps = (b: Broker): AgentDeps => ({
  agents: b.agents,
  gateways: b.gateways,
  clock: b.clock,
});
