/**
 * The desktop side of the composition: desktops and agents, reachability probes, gateways
 * (forwards, control API, registrations, HTML5 tickets) and connection leasing, which every
 * request that hands out or releases a desktop uses.
 */
import { HttpGatewayControl } from '../adapters/gateway/gateway-client.ts';
import { createTcpProbe } from '../adapters/net/tcp-probe.ts';
import { SqlAgentStore } from '../adapters/site-db/agent-store.ts';
import { SqlDesktopStore } from '../adapters/site-db/desktop-store.ts';
import { SqlForwardStore } from '../adapters/site-db/forward-store.ts';
import { DynamoGatewayRegistry } from '../adapters/state/gateway-registry.ts';
import { DynamoHtml5SessionStore } from '../adapters/state/html5-session-store.ts';
import { type BrokerLeasing, composeLeasing } from '../compose-leasing.ts';
import type { AgentStore } from '../core/agents/ports.ts';
import type { ReachabilityProbe } from '../core/desktops/offers.ts';
import type { DesktopStore } from '../core/desktops/ports.ts';
import { ticketKey } from '../core/gateways/html5-ticket.ts';
import type {
  ForwardStore,
  GatewayControl,
  GatewayRegistry,
  GatewayRouter,
  Html5SessionStore,
} from '../core/gateways/ports.ts';
import { createGatewayRouter } from '../core/gateways/routing.ts';
import type { BrokerBase } from './base.ts';

export interface DesktopParts {
  readonly desktops: DesktopStore;
  readonly agents: AgentStore;
  readonly probe: ReachabilityProbe;
  readonly forwards: ForwardStore;
  /** Undefined without GATEWAY_SECRET. */
  readonly gatewayControl: GatewayControl | undefined;
  readonly gateways: GatewayRouter;
  /** Redeemed HTML5 tickets (state table). */
  readonly html5: Html5SessionStore;
  /** Seals and opens HTML5 tickets; undefined without GATEWAY_SECRET. */
  readonly ticketKey: Buffer | undefined;
  /** Gateways that registered themselves (state table). */
  readonly gatewayRegistry: GatewayRegistry;
  /** Connection leasing and leased mode. */
  readonly leasing: BrokerLeasing;
}

export function composeDesktops(base: BrokerBase): DesktopParts {
  const { config, clock, logger, state, snapshot } = base;
  const forwards = new SqlForwardStore(base.site.db);
  const gatewayControl = config.gatewaySecret
    ? new HttpGatewayControl({ secret: config.gatewaySecret, timeoutMs: config.gatewayTimeoutMs })
    : undefined;
  const html5 = new DynamoHtml5SessionStore(state);
  const gatewayRegistry = new DynamoGatewayRegistry(state, () => clock.now());
  const gateways = createGatewayRouter({
    snapshot,
    control: gatewayControl,
    forwards,
    html5,
    registry: gatewayRegistry,
    now: () => clock.now(),
    warn: (message, details) => logger.warn(message, details),
  });
  const leasing = composeLeasing({
    state,
    db: base.site.db,
    siteId: config.siteId,
    clock,
    logger,
    snapshot,
    leasedSnapshot: snapshot.withoutDatabase(),
    mirror: base.mirror,
    gatewayControl,
    html5,
    gatewayRegistry,
    requestTimeoutMs: config.dbRequestTimeoutMs,
    metrics: base.metrics,
  });
  return {
    desktops: new SqlDesktopStore(base.site.db, config.siteId),
    agents: new SqlAgentStore(base.site.db, config.siteId),
    probe: createTcpProbe(config.probe),
    forwards,
    gatewayControl,
    gateways,
    html5,
    ticketKey: config.gatewaySecret ? ticketKey(config.gatewaySecret) : undefined,
    gatewayRegistry,
    leasing,
  };
}
