/**
 * Protocol plans: which protocols a desktop is reached with, and whether through a gateway.
 * The client's location may override the policy's plan (the guide: "On desktop connection,
 * then, the protocol plan corresponding to their location is used instead").
 */
import { BadRequestError } from '../errors.ts';
import { BROWSER_PROTOCOLS } from '../gateways/html5-ticket.ts';
import type { PolicyEntryConfig, ProtocolPlanConfig, SiteConfig } from '../site-config/schema.ts';
import { byName } from '../site-config/snapshot.ts';

export type ProtocolEntry = ProtocolPlanConfig['protocols'][number];

/** The plan used when neither the location nor the policy entry names one: RDP, direct. */
export const DEFAULT_PLAN: ProtocolPlanConfig = {
  name: '(default)',
  protocols: [{ protocol: 'rdp', port: 3389 }],
};

/** The first of the client's locations that overrides the plan wins; else the entry's plan. */
export function resolvePlan(
  config: SiteConfig,
  entry: Pick<PolicyEntryConfig, 'protocolPlan'> | undefined,
  locationNames: readonly string[],
): ProtocolPlanConfig {
  for (const name of locationNames) {
    const override = byName(config.locations, name)?.protocolPlan;
    const plan = byName(config.protocolPlans, override);
    if (plan) return plan;
  }
  return byName(config.protocolPlans, entry?.protocolPlan) ?? DEFAULT_PLAN;
}

/** Whether a plan's protocol can be shown in the browser: one the browser speaks, through a gateway. */
export function isBrowserCapable(p: ProtocolEntry): boolean {
  return p.gateway !== undefined && (BROWSER_PROTOCOLS as readonly string[]).includes(p.protocol);
}

/** A desktop's own ports by protocol (`{ vnc: 5902 }`); absent protocols keep the plan's port. */
export type DesktopPorts = Readonly<Partial<Record<string, number>>>;

/**
 * The plan as one desktop is reached with it: each protocol on the desktop's own port for it,
 * when the desktop has one, else on the plan's port. The gateway choice is the plan's.
 */
export function planForDesktop(plan: ProtocolPlanConfig, ports: DesktopPorts): ProtocolPlanConfig {
  if (Object.keys(ports).length === 0) return plan;
  return {
    ...plan,
    protocols: plan.protocols.map((p) => ({ ...p, port: ports[p.protocol] ?? p.port })),
  };
}

/**
 * The protocol to connect with: the one asked for, else the plan's first (for the browser:
 * the first the browser can show).
 * @throws {BadRequestError} `unsupported_protocol` when the plan does not offer it,
 *   `browser_display_unavailable` when it cannot be shown in the browser.
 */
export function chooseProtocol(
  plan: ProtocolPlanConfig,
  requested: string | undefined,
  display: 'client' | 'browser' = 'client',
): ProtocolEntry {
  if (display === 'browser') {
    const capable = plan.protocols.filter(isBrowserCapable);
    const found =
      requested === undefined
        ? capable[0]
        : capable.find((p) => p.protocol === requested.toLowerCase());
    if (!found) {
      throw new BadRequestError(
        'browser_display_unavailable',
        `this desktop cannot be shown in the browser${requested ? ` with ${requested}` : ''}: the browser shows ${BROWSER_PROTOCOLS.join(', ')} desktops reached through a gateway; use the launch file`,
      );
    }
    return found;
  }
  if (requested === undefined) return plan.protocols[0]!;
  const found = plan.protocols.find((p) => p.protocol === requested.toLowerCase());
  if (!found) {
    const offered = plan.protocols.map((p) => p.protocol).join(', ');
    throw new BadRequestError(
      'unsupported_protocol',
      `this desktop is offered with ${offered}, not ${requested}`,
    );
  }
  return found;
}

/** One protocol of an offer; `browser: true` when it can be shown in the browser. */
export interface OfferedProtocol {
  readonly protocol: string;
  readonly port: number;
  readonly via: 'direct' | 'gateway';
  readonly browser?: true;
}

/**
 * What an offer says of its protocols. `reachesBrowsers` says whether browsers reach a
 * gateway (by its `webUrl`); without it, any browser-capable protocol is marked.
 */
export function offeredProtocols(
  plan: ProtocolPlanConfig,
  reachesBrowsers: (gateway: string) => boolean = () => true,
): OfferedProtocol[] {
  return plan.protocols.map((p) => ({
    protocol: p.protocol,
    port: p.port,
    via: p.gateway ? 'gateway' : 'direct',
    ...(isBrowserCapable(p) && reachesBrowsers(p.gateway!) ? { browser: true as const } : {}),
  }));
}
