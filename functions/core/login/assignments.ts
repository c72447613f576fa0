/**
 * Assignment rules (the guide's "Assigning a Policy Using a Location"): ordered rows of
 * group × client location × MFA provider → role + policy; the first row that matches wins.
 */
import type { AssignmentConfig, SiteConfig } from '../site-config/schema.ts';

export interface AssignmentMatch {
  readonly rule: AssignmentConfig;
  readonly index: number;
}

/**
 * The first rule whose group the user is in (or `*`) and whose location (when set) is one of
 * the client's. The MFA column does not filter: a matching rule that needs MFA asks for it.
 */
export function firstAssignment(
  config: SiteConfig,
  groups: readonly string[],
  locations: readonly string[],
): AssignmentMatch | undefined {
  const groupSet = new Set(groups.map((g) => g.toLowerCase()));
  const locationSet = new Set(locations.map((l) => l.toLowerCase()));
  const index = config.assignments.findIndex(
    (rule) =>
      (rule.group === '*' || groupSet.has(rule.group.toLowerCase())) &&
      (rule.location === undefined || locationSet.has(rule.location.toLowerCase())),
  );
  return index < 0 ? undefined : { rule: config.assignments[index]!, index };
}
