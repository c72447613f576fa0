/**
 * The ports each use case needs, taken from the composed broker.
 */

import type { BrokerBase } from '../../compose/base.ts';
import type { DesktopParts } from '../../compose/desktops.ts';
import type { DirectoryParts, LoginParts, SessionParts } from '../../compose/login.ts';
import type { Broker } from '../../compose.ts';
import type { AgentDeps } from '../../core/agents/events.ts';
import type { DesktopDeps } from '../../core/desktops/desktops.ts';
import type { LoginDeps, SessionDeps } from '../../core/login/login.ts';
import type { ResealDeps } from '../../core/secrets/reseal.ts';
import type { ApplyDeps } from '../../core/site-config/apply.ts';

/** What session-checked endpoints use of the broker. */
export type SessionBroker = BrokerBase & SessionParts;
/** What handing out, connecting and releasing desktops uses. */
export type DesktopBroker = BrokerBase & DesktopParts;
/** What signing in uses: sessions, the directory, local accounts, and the desktops it offers. */
export type LoginBroker = SessionBroker & DirectoryParts & LoginParts & DesktopParts;

export const sessionDeps = (b: SessionBroker): SessionDeps => ({
  sessions: b.sessions,
  clock: b.clock,
  limits: b.sessionLimits,
});

export const desktopDeps = (b: DesktopBroker): DesktopDeps => ({
  snapshot: b.snapshot,
  desktops: b.desktops,
  probe: b.probe,
  gateways: b.gateways,
  clock: b.clock,
  leasing: b.leasing,
  ticketKey: b.ticketKey,
  metrics: b.metrics,
});

export const loginDeps = (b: LoginBroker): LoginDeps => ({
  ...sessionDeps(b),
  ...desktopDeps(b),
  accounts: b.accounts,
  hasher: b.hasher,
  directory: b.directory,
  secrets: b.secrets,
  throttle: b.throttle,
  throttleLimits: b.config.throttle,
  failureFloorMs: b.config.loginFailureFloorMs,
});

/** Applying a site configuration: the store, the hasher, this broker's cache, the leased-mode mirror. */
export const applyDeps = (b: Broker): ApplyDeps => ({
  store: b.siteConfig,
  hasher: b.hasher,
  secrets: b.secrets,
  snapshot: b.snapshot,
  afterApply: b.leasing.afterApply,
  // On AWS the heartbeat schedule fixes the period; a file must agree with it.
  fixedHeartbeatSeconds: b.config.heartbeatSeconds,
});

/**
 * Sealing and re-encrypting stored secrets: after a change, this broker's cached configuration
 * is dropped and the leased-mode copy in the state table is written again (with the new texts).
 */
export const resealDeps = (b: Broker): ResealDeps => ({
  box: b.secrets,
  stored: b.storedSecrets,
  afterChange: async () => {
    b.snapshot.invalidate();
    await b.leasing.syncMirror();
  },
});

/** Lease extensions by desktop, shared by every agent request of this broker. */
const extended = new WeakMap<DesktopBroker, Map<number, number>>();

export const agentDeps = (b: DesktopBroker): AgentDeps => {
  if (!extended.has(b)) extended.set(b, new Map());
  return {
    agents: b.agents,
    gateways: b.gateways,
    clock: b.clock,
    snapshot: b.snapshot,
    leasing: b.leasing,
    extended: extended.get(b),
  };
};
