/**
 * The site configuration file (YAML or JSON): the whole configuration of a site, keyed by
 * names. Shape documented in DESIGN.md and the README. This module only describes the shape;
 * `validate.ts` checks the references between entries.
 */

import { gatewayTagSchema } from '../gateways/registration-contract.ts';
import { RECORDED_HEADERS_MAX } from '../login/client-limits.ts';
import * as z from '../zod.ts';

/**
 * In an export, a stored secret (LDAP bind password, TOTP secret) is written as this; apply
 * reads it as "keep the stored value". An export never holds a secret.
 */
export const KEPT_SECRET = '(kept)';

const BASE32_SECRET = /^[A-Z2-7]{26,128}=*$/;

const name = z
  .string()
  .check(
    z.trim(),
    z.minLength(1, 'must not be empty'),
    z.maxLength(128, 'must be at most 128 characters'),
  );
const port = z.int().check(z.minimum(1), z.maximum(65535));
const host = z
  .string()
  .check(
    z.trim(),
    z.minLength(1),
    z.maxLength(253),
    z.regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or IP address'),
  );
const headerName = z.string().check(z.regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'));
/** An integer from `min` to `max` inclusive, `fallback` when absent. */
const intIn = (min: number, max: number, fallback: number) =>
  z._default(z.int().check(z.minimum(min), z.maximum(max)), fallback);

const webUrl = z.string().check(
  z.trim(),
  z.maxLength(2048),
  z.regex(/^https?:\/\/[^\s?#]+$/, 'must be an http(s) URL without query or fragment'),
  z.refine((v) => URL.canParse(v), 'must be a URL'),
);

export const localAuthServerSchema = z.strictObject({
  name,
  type: z.literal('local'),
  enabled: z._default(z.boolean(), true),
});

export const ldapAuthServerSchema = z.strictObject({
  name,
  type: z.literal('ldap'),
  enabled: z._default(z.boolean(), true),
  url: z
    .string()
    .check(
      z.regex(
        /^ldaps?:\/\/[^/\s]+(:\d+)?\/?$/,
        'must look like ldap://host:389 or ldaps://host:636',
      ),
    ),
  bindDn: z.optional(z.string().check(z.minLength(1))),
  bindPassword: z.optional(z.string()),
  userBase: z.string().check(z.minLength(1)),
  /** `{username}` is replaced by the escaped login name. */
  userFilter: z._default(
    z.string().check(z.includes('{username}', { message: 'must contain {username}' })),
    '(uid={username})',
  ),
  groupBase: z.optional(z.string().check(z.minLength(1))),
  /** `{dn}` is the user's DN, `{username}` the login name. */
  groupFilter: z._default(z.string(), '(|(member={dn})(uniqueMember={dn})(memberUid={username}))'),
  groupAttribute: z._default(z.string().check(z.minLength(1)), 'cn'),
  timeoutMs: intIn(100, 60_000, 3000),
});

export const authServerSchema = z.discriminatedUnion('type', [
  localAuthServerSchema,
  ldapAuthServerSchema,
]);

export const userSchema = z
  .strictObject({
    name: name.check(z.refine((n) => !/\s/.test(n), 'must not contain spaces')),
    password: z.optional(
      z.string().check(z.minLength(8, 'must be at least 8 characters'), z.maxLength(1024)),
    ),
    /** An argon2id hash, as `export` writes it. */
    passwordHash: z.optional(z.string().check(z.startsWith('$argon2', 'must be an argon2 hash'))),
    groups: z._default(z.array(name), []),
    authServer: z.optional(name),
    /** Base32 TOTP enrolment secret (RFC 6238), for assignments that require MFA. */
    mfaSecret: z.optional(
      z
        .string()
        .check(
          z.refine(
            (v) => v === KEPT_SECRET || BASE32_SECRET.test(v),
            `must be a base32 secret of at least 26 characters (128 bits), or "${KEPT_SECRET}"`,
          ),
        ),
    ),
  })
  .check(
    z.refine((u) => !(u.password && u.passwordHash), {
      message: 'give password or passwordHash, not both',
      path: ['password'],
    }),
  );

export const roleSchema = z.strictObject({ name, admin: z._default(z.boolean(), false) });

export const gatewaySchema = z
  .strictObject({
    name,
    address: host,
    publicAddress: host,
    controlUrl: z.url().check(z.regex(/^https?:\/\//, 'must be an http(s) URL')),
    portRange: z._default(z.tuple([port, port]), [20001, 23000]),
    /** The gateway's public HTTP face as browsers reach it (HTML5 display opens a WebSocket there). */
    webUrl: z.optional(webUrl),
  })
  .check(
    z.refine((g) => g.portRange[0] <= g.portRange[1], {
      message: 'first port must not be above the last',
      path: ['portRange'],
    }),
  );

export const gatewayClusterSchema = z
  .strictObject({
    name,
    mode: z.enum(['all', 'login', 'fewest']),
    /** Fixed members: names of `gateways[]` entries. */
    members: z._default(z.array(name), []),
    /** Every live registered gateway with this tag is a member too (GATEWAY_TAGS). */
    tag: z.optional(gatewayTagSchema),
    loadBalancerAddress: z.optional(host),
    /** Mode `all`: the load balancer's URL in front of the members' HTTP faces, for browsers. */
    webUrl: z.optional(webUrl),
  })
  .check(
    z.refine((c) => c.members.length > 0 || c.tag !== undefined, {
      message: 'needs at least one gateway, or a tag that registered gateways carry',
      path: ['members'],
    }),
    z.refine((c) => c.mode !== 'all' || c.loadBalancerAddress, {
      message: 'mode "all" needs the load balancer address clients connect to',
      path: ['loadBalancerAddress'],
    }),
  );

export const PROTOCOLS = ['rdp', 'dcv', 'vnc', 'ssh', 'pcoip', 'http', 'https'] as const;

export const protocolPlanSchema = z.strictObject({
  name,
  protocols: z
    .array(
      z.strictObject({
        protocol: z.enum(PROTOCOLS),
        port,
        /** A gateway or gateway cluster name; without it the client connects directly. */
        gateway: z.optional(name),
      }),
    )
    .check(z.minLength(1, 'needs at least one protocol')),
});

export const desktopSchema = z
  .strictObject({
    name,
    address: host,
    /**
     * The desktop's own port for some protocols, overriding its protocol plan's port for that
     * protocol (`{ vnc: 5902 }`): several displays on one host, desktops behind NAT.
     */
    ports: z.optional(z.partialRecord(z.enum(PROTOCOLS), port)),
    /** Hard assignment to one user. */
    assignedTo: z.optional(name),
    /** The agent's key for the event API; stored hashed. */
    agentKey: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
    agentKeyHash: z.optional(
      z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest')),
    ),
  })
  .check(
    z.refine((d) => !(d.agentKey && d.agentKeyHash), {
      message: 'give agentKey or agentKeyHash, not both',
      path: ['agentKey'],
    }),
  );

export const poolSchema = z.strictObject({
  name,
  desktops: z._default(z.array(desktopSchema), []),
});

export const LOCATION_ATTRIBUTES = ['ip', 'login_gateway', 'client_name', 'header'] as const;
export const LOCATION_OPS = [
  'is_equal_to',
  'is_not_equal_to',
  'contains',
  'does_not_contain',
  'starts_with',
  'in_range',
  'not_in_range',
] as const;

export const locationRuleSchema = z
  .strictObject({
    attribute: z.enum(LOCATION_ATTRIBUTES),
    /** For `attribute: header`: which HTTP header. */
    header: z.optional(headerName),
    op: z.enum(LOCATION_OPS),
    value: z.string().check(z.minLength(1)),
  })
  .check(
    z.refine((r) => (r.attribute === 'header') === Boolean(r.header), {
      message: 'give header exactly when attribute is header',
      path: ['header'],
    }),
    z.refine((r) => !r.op.endsWith('in_range') || r.attribute === 'ip', {
      message: 'in_range and not_in_range apply to the ip attribute only',
      path: ['op'],
    }),
  );

export const locationSchema = z.strictObject({
  name,
  match: z._default(z.enum(['all', 'any']), 'all'),
  rules: z.array(locationRuleSchema).check(z.minLength(1, 'needs at least one rule')),
  protocolPlan: z.optional(name),
});

export const RELEASES = ['on_logout', 'on_disconnect', 'never'] as const;

export const policyEntrySchema = z.strictObject({
  pool: name,
  offer: intIn(0, 100, 1),
  backupPool: z.optional(name),
  protocolPlan: z.optional(name),
  release: z._default(z.enum(RELEASES), 'on_logout'),
  /** For `on_disconnect`: how long a disconnected desktop stays with its user. */
  releaseDelaySeconds: intIn(0, 7 * 86_400, 0),
});

export const policySchema = z.strictObject({
  name,
  entries: z.array(policyEntrySchema).check(z.minLength(1, 'needs at least one pool entry')),
});

export const MFA_PROVIDERS = ['totp'] as const;

export const assignmentSchema = z.strictObject({
  /** A group name, or `*` for everyone. */
  group: name,
  location: z.optional(name),
  mfa: z.optional(z.enum(MFA_PROVIDERS)),
  role: name,
  policy: name,
});

export const settingsSchema = z.strictObject({
  leasing: z.prefault(
    z.strictObject({
      enabled: z._default(z.boolean(), true),
      days: intIn(1, 365, 14),
    }),
    {},
  ),
  logRetentionDays: intIn(1, 3650, 30),
  heartbeatSeconds: intIn(5, 3600, 20),
  /** Headers recorded with each client registration (and usable in location rules). */
  clientHeaders: z._default(
    z
      .array(headerName.check(z.maxLength(64, 'must be at most 64 characters')))
      .check(
        z.maxLength(
          RECORDED_HEADERS_MAX,
          `at most ${RECORDED_HEADERS_MAX} headers (each login stores them)`,
        ),
      ),
    ['user-agent'],
  ),
});

/** A list of entries, empty when absent. */
const listOf = <T extends z.core.SomeType>(entry: T) => z._default(z.array(entry), []);

export const siteConfigSchema = z.strictObject({
  authServers: listOf(authServerSchema),
  users: listOf(userSchema),
  roles: listOf(roleSchema),
  gateways: listOf(gatewaySchema),
  gatewayClusters: listOf(gatewayClusterSchema),
  protocolPlans: listOf(protocolPlanSchema),
  pools: listOf(poolSchema),
  locations: listOf(locationSchema),
  policies: listOf(policySchema),
  assignments: listOf(assignmentSchema),
  settings: z.prefault(settingsSchema, {}),
});

/** A parsed configuration file, defaults filled in. */
export type SiteConfig = z.output<typeof siteConfigSchema>;
export type SiteConfigInput = z.input<typeof siteConfigSchema>;
export type SiteSettings = z.output<typeof settingsSchema>;
export type AuthServerConfig = SiteConfig['authServers'][number];
export type LdapAuthServerConfig = z.output<typeof ldapAuthServerSchema>;
export type UserConfig = SiteConfig['users'][number];
export type PoolConfig = SiteConfig['pools'][number];
export type DesktopConfig = PoolConfig['desktops'][number];
export type PolicyConfig = SiteConfig['policies'][number];
export type PolicyEntryConfig = PolicyConfig['entries'][number];
export type LocationConfig = SiteConfig['locations'][number];
export type LocationRule = LocationConfig['rules'][number];
export type ProtocolPlanConfig = SiteConfig['protocolPlans'][number];
export type GatewayConfig = SiteConfig['gateways'][number];
export type GatewayClusterConfig = SiteConfig['gatewayClusters'][number];
export type AssignmentConfig = SiteConfig['assignments'][number];
export type RoleConfig = SiteConfig['roles'][number];

/** The settings a site has before anyone applies a configuration. */
export const DEFAULT_SETTINGS: SiteSettings = settingsSchema.parse({});
