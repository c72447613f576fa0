/**
 * Protocol plans: which protocols a desktop is reached with, and whether through a gateway.
 * The client's location may override the policy's plan (the guide: "On desktop connection,
 * then, the protocol plan corresponding to their location is used instead").
 */
import { BadRequestError } from '../errors.ts';
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
 * The protocol to connect with: the one asked for, else the plan's first.
 * @throws {BadRequestError} `unsupported_protocol` when the plan does not offer it.
 */
export function chooseProtocol(
  plan: ProtocolPlanConfig,
  requested: string | undefined,
): ProtocolEntry {
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

/** What an offer says of its protocols. */
export function offeredProtocols(
  plan: ProtocolPlanConfig,
): { protocol: string; port: number; via: 'direct' | 'gateway' }[] {
  return plan.protocols.map((p) => ({
    protocol: p.protocol,
    port: p.port,
    via: p.gateway ? 'gateway' : 'direct',
  }));
}
