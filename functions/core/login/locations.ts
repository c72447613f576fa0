/**
 * Client locations (the guide's "Dynamically configuring desktop access"): a location is a set
 * of rules on client attributes, matched with AND (`all`) or OR (`any`). A client may be in
 * several locations.
 */
import { ipInRange } from '../ip-range.ts';
import type { LocationConfig, LocationRule, SiteConfig } from '../site-config/schema.ts';

/** What the broker knows of a client at login. */
export interface ClientAttributes {
  readonly ip: string;
  readonly name: string;
  /** The gateway that forwarded the login (from its signed tag), if any. */
  readonly loginGateway: string | null;
  /** That gateway's registration tags (signed in the same tag): its tag clusters. */
  readonly loginGatewayTags?: readonly string[];
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The names a login gateway answers to: itself and every cluster it belongs to, as a fixed
 * member or, for a registered gateway, through one of its tags.
 */
function loginGatewayNames(config: SiteConfig, client: ClientAttributes): string[] {
  const gateway = client.loginGateway;
  if (!gateway) return [];
  const tags = client.loginGatewayTags ?? [];
  const clusters = config.gatewayClusters.filter(
    (c) =>
      c.members.some((m) => eq(m, gateway)) ||
      (c.tag !== undefined && tags.some((t) => eq(t, c.tag!))),
  );
  return [gateway, ...clusters.map((c) => c.name)];
}

function valuesOf(rule: LocationRule, client: ClientAttributes, config: SiteConfig): string[] {
  switch (rule.attribute) {
    case 'ip':
      return [client.ip];
    case 'client_name':
      return [client.name];
    case 'login_gateway':
      return loginGatewayNames(config, client);
    case 'header': {
      const value = client.headers[rule.header!.toLowerCase()];
      return value === undefined ? [] : [value];
    }
  }
}

/** Whether one rule holds. Negative operators hold when the attribute is absent. */
export function ruleMatches(
  rule: LocationRule,
  client: ClientAttributes,
  config: SiteConfig,
): boolean {
  const values = valuesOf(rule, client, config);
  const v = rule.value.toLowerCase();
  switch (rule.op) {
    case 'is_equal_to':
      return values.some((x) => eq(x, rule.value));
    case 'is_not_equal_to':
      return !values.some((x) => eq(x, rule.value));
    case 'contains':
      return values.some((x) => x.toLowerCase().includes(v));
    case 'does_not_contain':
      return !values.some((x) => x.toLowerCase().includes(v));
    case 'starts_with':
      return values.some((x) => x.toLowerCase().startsWith(v));
    case 'in_range':
      return values.some((x) => ipInRange(x, rule.value));
    case 'not_in_range':
      return !values.some((x) => ipInRange(x, rule.value));
  }
}

export function locationMatches(
  location: LocationConfig,
  client: ClientAttributes,
  config: SiteConfig,
): boolean {
  const results = location.rules.map((rule) => ruleMatches(rule, client, config));
  return location.match === 'all' ? results.every(Boolean) : results.some(Boolean);
}

/** Every location the client is in, in configuration order. */
export function locationsOf(config: SiteConfig, client: ClientAttributes): LocationConfig[] {
  return config.locations.filter((location) => locationMatches(location, client, config));
}
