/**
 * Validates a site configuration: its shape (zod) and the references between entries, in one
 * pass. Every problem names its exact path, such as
 * `policies[1].entries[0].pool: unknown pool "eng"`.
 */
import { BadRequestError } from '../errors.ts';
import { isValidIpRange } from '../ip-range.ts';
import { BUILTIN_ADMIN } from '../login/sessions.ts';
import { type ReferenceView, salvage } from './salvage.ts';
import { type SiteConfig, siteConfigSchema } from './schema.ts';

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** Formats a zod-style path: `['policies', 1, 'entries', 0, 'pool']` → `policies[1].entries[0].pool`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(file)';
}

/** Thrown by {@link parseSiteConfig}; lists every problem found. */
export class InvalidConfigError extends BadRequestError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('invalid_config', `${first.path}: ${first.message}${more}`, {
      problems: problems.map((p) => `${p.path}: ${p.message}`),
    });
    this.name = 'InvalidConfigError';
    this.problems = problems;
  }
}

/**
 * Checks a configuration document: its shape (zod) and the references between its entries,
 * in one pass. Reference errors are found even when the shape is wrong (the references are
 * read from whatever the document holds, `salvage.ts`), so every mistake of a file is reported
 * at once, in the order of the file's sections.
 */
export function checkSiteConfig(
  document: unknown,
): { config: SiteConfig; problems: [] } | { config: undefined; problems: ConfigProblem[] } {
  const parsed = siteConfigSchema.safeParse(document ?? {});
  const shape: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.message,
      }));
  const references = checkReferences(parsed.success ? parsed.data : salvage(document));
  const problems = sortProblems(uniqueProblems([...shape, ...references]));
  if (parsed.success && problems.length === 0) return { config: parsed.data, problems: [] };
  return { config: undefined, problems };
}

/**
 * Parses and checks a configuration document (already decoded from YAML or JSON).
 * @throws {InvalidConfigError} with every problem and its path.
 */
export function parseSiteConfig(document: unknown): SiteConfig {
  const { config, problems } = checkSiteConfig(document);
  if (!config) throw new InvalidConfigError(problems);
  return config;
}

const uniqueProblems = (problems: ConfigProblem[]) => {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

const SECTIONS = Object.keys(siteConfigSchema.shape);
/** `policies[1].entries[0].pool` → its section's place in the file, then its indices. */
const sortKey = (path: string): number[] => {
  const section = SECTIONS.indexOf(path.split(/[.[]/)[0]!);
  const indices = [...path.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  return [section < 0 ? SECTIONS.length : section, ...indices];
};

/** Problems in the order of the file: by section, then by entry (stable within an entry). */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const keyed = problems.map((p, i) => ({ p, i, key: sortKey(p.path) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < Math.min(a.key.length, b.key.length); k++) {
      if (a.key[k] !== b.key[k]) return a.key[k]! - b.key[k]!;
    }
    return a.i - b.i;
  });
  return keyed.map((x) => x.p);
}

/** The reference and uniqueness checks zod cannot express. */
export function checkReferences(config: ReferenceView): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });

  const names = <T extends { name: string | undefined }>(list: readonly T[], key: string) => {
    const seen = new Map<string, number>();
    list.forEach((entry, i) => {
      if (entry.name === undefined) return;
      const lower = entry.name.toLowerCase();
      const first = seen.get(lower);
      if (first !== undefined) {
        problem(`${key}[${i}].name`, `duplicate name "${entry.name}" (also ${key}[${first}])`);
      } else {
        seen.set(lower, i);
      }
    });
    return new Set(list.flatMap((e) => (e.name === undefined ? [] : [e.name])));
  };

  const authServers = names(config.authServers, 'authServers');
  const localServers = config.authServers.filter((s) => s.type === 'local').map((s) => s.name);
  names(config.users, 'users');
  const roles = names(config.roles, 'roles');
  const gateways = names(config.gateways, 'gateways');
  const clusters = names(config.gatewayClusters, 'gatewayClusters');
  const plans = names(config.protocolPlans, 'protocolPlans');
  const pools = names(config.pools, 'pools');
  const locations = names(config.locations, 'locations');
  const policies = names(config.policies, 'policies');

  for (const name of gateways) {
    if (clusters.has(name)) {
      const i = config.gatewayClusters.findIndex((c) => c.name === name);
      problem(
        `gatewayClusters[${i}].name`,
        `"${name}" is also a gateway name; protocol plans could not tell them apart`,
      );
    }
  }

  config.users.forEach((user, i) => {
    if (user.name?.toLowerCase() === BUILTIN_ADMIN) {
      problem(
        `users[${i}].name`,
        `"${user.name}" is the built-in administrator and cannot be configured`,
      );
    }
    if (user.authServer !== undefined) {
      const server = config.authServers.find((s) => s.name === user.authServer);
      if (!server)
        problem(`users[${i}].authServer`, `unknown authentication server "${user.authServer}"`);
      else if (server.type !== 'local') {
        problem(
          `users[${i}].authServer`,
          `"${user.authServer}" is not a local authentication server`,
        );
      }
    } else if (localServers.length === 0) {
      problem(`users[${i}].authServer`, 'no local authentication server to hold this account');
    }
  });

  const desktopNames = new Map<string, string>();
  config.pools.forEach((pool, p) => {
    pool.desktops.forEach((desktop, d) => {
      const path = `pools[${p}].desktops[${d}]`;
      if (desktop.name === undefined) return;
      const lower = desktop.name.toLowerCase();
      const other = desktopNames.get(lower);
      if (other)
        problem(`${path}.name`, `duplicate desktop name "${desktop.name}" (also ${other})`);
      else desktopNames.set(lower, path);
    });
  });

  config.gatewayClusters.forEach((cluster, c) => {
    const seen = new Set<string>();
    cluster.members.forEach((member, m) => {
      if (member === undefined) return;
      if (!gateways.has(member))
        problem(`gatewayClusters[${c}].members[${m}]`, `unknown gateway "${member}"`);
      if (seen.has(member))
        problem(`gatewayClusters[${c}].members[${m}]`, `gateway "${member}" is listed twice`);
      seen.add(member);
    });
  });

  config.protocolPlans.forEach((plan, p) => {
    plan.protocols.forEach((entry, e) => {
      if (
        entry.gateway !== undefined &&
        !gateways.has(entry.gateway) &&
        !clusters.has(entry.gateway)
      ) {
        problem(
          `protocolPlans[${p}].protocols[${e}].gateway`,
          `unknown gateway or gateway cluster "${entry.gateway}"`,
        );
      }
    });
  });

  config.locations.forEach((location, l) => {
    if (location.protocolPlan !== undefined && !plans.has(location.protocolPlan)) {
      problem(`locations[${l}].protocolPlan`, `unknown protocol plan "${location.protocolPlan}"`);
    }
    location.rules.forEach((rule, r) => {
      if (
        rule.op?.endsWith('in_range') &&
        rule.value !== undefined &&
        !isValidIpRange(rule.value)
      ) {
        problem(
          `locations[${l}].rules[${r}].value`,
          `"${rule.value}" is not an IP range (10.0.0.0/8 or 10.0.0.1-10.0.0.9)`,
        );
      }
    });
  });

  config.policies.forEach((policy, p) => {
    policy.entries.forEach((entry, e) => {
      const path = `policies[${p}].entries[${e}]`;
      if (entry.pool !== undefined && !pools.has(entry.pool))
        problem(`${path}.pool`, `unknown pool "${entry.pool}"`);
      if (entry.backupPool !== undefined) {
        if (!pools.has(entry.backupPool))
          problem(`${path}.backupPool`, `unknown pool "${entry.backupPool}"`);
        else if (entry.backupPool === entry.pool)
          problem(`${path}.backupPool`, 'a pool cannot be its own backup');
      }
      if (entry.protocolPlan !== undefined && !plans.has(entry.protocolPlan)) {
        problem(`${path}.protocolPlan`, `unknown protocol plan "${entry.protocolPlan}"`);
      }
    });
  });

  config.assignments.forEach((assignment, a) => {
    const path = `assignments[${a}]`;
    if (assignment.location !== undefined && !locations.has(assignment.location)) {
      problem(`${path}.location`, `unknown location "${assignment.location}"`);
    }
    if (assignment.role !== undefined && !roles.has(assignment.role))
      problem(`${path}.role`, `unknown role "${assignment.role}"`);
    if (assignment.policy !== undefined && !policies.has(assignment.policy))
      problem(`${path}.policy`, `unknown policy "${assignment.policy}"`);
  });

  if (authServers.size > 0 && config.authServers.every((s) => !s.enabled)) {
    problem('authServers', 'at least one authentication server must be enabled');
  }
  return problems;
}
