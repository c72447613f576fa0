/**
 * The site configuration file (YAML or JSON): the whole configuration of a site, keyed by
 * names. Shape documented in DESIGN.md and the README. This module only describes the shape;
 * `validate.ts` checks the references between entries.
 */
import * as z from 'zod';
import { gatewayTagSchema } from '../gateways/registration-contract.ts';
import { RECORDED_HEADERS_MAX } from '../login/client-limits.ts';

/**
 * In an export, a stored secret (LDAP bind password, TOTP secret) is written as this; apply
 * reads it as "keep the stored value". An export never holds a secret.
 */
export const KEPT_SECRET = '(kept)';

const BASE32_SECRET = /^[A-Z2-7]{26,128}=*$/;

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');
const port = z.number().int().min(1).max(65535);
const host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or IP address');

const webUrl = z
  .string()
  .trim()
  .max(2048)
  .regex(/^https?:\/\/[^\s?#]+$/, 'must be an http(s) URL without query or fragment')
  .refine((v) => URL.canParse(v), 'must be a URL');

export const localAuthServerSchema = z.strictObject({
  name,
  type: z.literal('local'),
  enabled: z.boolean().default(true),
});

export const ldapAuthServerSchema = z.strictObject({
  name,
  type: z.literal('ldap'),
  enabled: z.boolean().default(true),
  url: z
    .string()
    .regex(/^ldaps?:\/\/[^/\s]+(:\d+)?\/?$/, 'must look like ldap://host:389 or ldaps://host:636'),
  bindDn: z.string().min(1).optional(),
  bindPassword: z.string().optional(),
  userBase: z.string().min(1),
  /** `{username}` is replaced by the escaped login name. */
  userFilter: z
    .string()
    .includes('{username}', { message: 'must contain {username}' })
    .default('(uid={username})'),
  groupBase: z.string().min(1).optional(),
  /** `{dn}` is the user's DN, `{username}` the login name. */
  groupFilter: z.string().default('(|(member={dn})(uniqueMember={dn})(memberUid={username}))'),
  groupAttribute: z.string().min(1).default('cn'),
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
});

export const authServerSchema = z.discriminatedUnion('type', [
  localAuthServerSchema,
  ldapAuthServerSchema,
]);

export const userSchema = z
  .strictObject({
    name: name.refine((n) => !/\s/.test(n), 'must not contain spaces'),
    password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
    /** An argon2id hash, as `export` writes it. */
    passwordHash: z.string().startsWith('$argon2', 'must be an argon2 hash').optional(),
    groups: z.array(name).default([]),
    authServer: name.optional(),
    /** Base32 TOTP enrolment secret (RFC 6238), for assignments that require MFA. */
    mfaSecret: z
      .string()
      .refine(
        (v) => v === KEPT_SECRET || BASE32_SECRET.test(v),
        `must be a base32 secret of at least 26 characters (128 bits), or "${KEPT_SECRET}"`,
      )
      .optional(),
  })
  .refine((u) => !(u.password && u.passwordHash), {
    message: 'give password or passwordHash, not both',
    path: ['password'],
  });

export const roleSchema = z.strictObject({ name, admin: z.boolean().default(false) });

export const gatewaySchema = z
  .strictObject({
    name,
    address: host,
    publicAddress: host,
    controlUrl: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'must be an http(s) URL'),
    portRange: z.tuple([port, port]).default([20001, 23000]),
    /** The gateway's public HTTP face as browsers reach it (HTML5 display opens a WebSocket there). */
    webUrl: webUrl.optional(),
  })
  .refine((g) => g.portRange[0] <= g.portRange[1], {
    message: 'first port must not be above the last',
    path: ['portRange'],
  });

export const gatewayClusterSchema = z
  .strictObject({
    name,
    mode: z.enum(['all', 'login', 'fewest']),
    /** Fixed members: names of `gateways[]` entries. */
    members: z.array(name).default([]),
    /** Every live registered gateway with this tag is a member too (GATEWAY_TAGS). */
    tag: gatewayTagSchema.optional(),
    loadBalancerAddress: host.optional(),
    /** Mode `all`: the load balancer's URL in front of the members' HTTP faces, for browsers. */
    webUrl: webUrl.optional(),
  })
  .refine((c) => c.members.length > 0 || c.tag !== undefined, {
    message: 'needs at least one gateway, or a tag that registered gateways carry',
    path: ['members'],
  })
  .refine((c) => c.mode !== 'all' || c.loadBalancerAddress, {
    message: 'mode "all" needs the load balancer address clients connect to',
    path: ['loadBalancerAddress'],
  });

export const PROTOCOLS = ['rdp', 'dcv', 'vnc', 'ssh', 'pcoip', 'http', 'https'] as const;

export const protocolPlanSchema = z.strictObject({
  name,
  protocols: z
    .array(
      z.strictObject({
        protocol: z.enum(PROTOCOLS),
        port,
        /** A gateway or gateway cluster name; without it the client connects directly. */
        gateway: name.optional(),
      }),
    )
    .min(1, 'needs at least one protocol'),
});

export const desktopSchema = z
  .strictObject({
    name,
    address: host,
    /**
     * The desktop's own port for some protocols, overriding its protocol plan's port for that
     * protocol (`{ vnc: 5902 }`): several displays on one host, desktops behind NAT.
     */
    ports: z.partialRecord(z.enum(PROTOCOLS), port).optional(),
    /** Hard assignment to one user. */
    assignedTo: name.optional(),
    /** The agent's key for the event API; stored hashed. */
    agentKey: z.string().min(16, 'must be at least 16 characters').optional(),
    agentKeyHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest')
      .optional(),
  })
  .refine((d) => !(d.agentKey && d.agentKeyHash), {
    message: 'give agentKey or agentKeyHash, not both',
    path: ['agentKey'],
  });

export const poolSchema = z.strictObject({ name, desktops: z.array(desktopSchema).default([]) });

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
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
      .optional(),
    op: z.enum(LOCATION_OPS),
    value: z.string().min(1),
  })
  .refine((r) => (r.attribute === 'header') === Boolean(r.header), {
    message: 'give header exactly when attribute is header',
    path: ['header'],
  })
  .refine((r) => !r.op.endsWith('in_range') || r.attribute === 'ip', {
    message: 'in_range and not_in_range apply to the ip attribute only',
    path: ['op'],
  });

export const locationSchema = z.strictObject({
  name,
  match: z.enum(['all', 'any']).default('all'),
  rules: z.array(locationRuleSchema).min(1, 'needs at least one rule'),
  protocolPlan: name.optional(),
});

export const RELEASES = ['on_logout', 'on_disconnect', 'never'] as const;

export const policyEntrySchema = z.strictObject({
  pool: name,
  offer: z.number().int().min(0).max(100).default(1),
  backupPool: name.optional(),
  protocolPlan: name.optional(),
  release: z.enum(RELEASES).default('on_logout'),
  /** For `on_disconnect`: how long a disconnected desktop stays with its user. */
  releaseDelaySeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(0),
});

export const policySchema = z.strictObject({
  name,
  entries: z.array(policyEntrySchema).min(1, 'needs at least one pool entry'),
});

export const MFA_PROVIDERS = ['totp'] as const;

export const assignmentSchema = z.strictObject({
  /** A group name, or `*` for everyone. */
  group: name,
  location: name.optional(),
  mfa: z.enum(MFA_PROVIDERS).optional(),
  role: name,
  policy: name,
});

export const settingsSchema = z.strictObject({
  leasing: z
    .strictObject({
      enabled: z.boolean().default(true),
      days: z.number().int().min(1).max(365).default(14),
    })
    .prefault({}),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
  heartbeatSeconds: z.number().int().min(5).max(3600).default(20),
  /** Headers recorded with each client registration (and usable in location rules). */
  clientHeaders: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
        .max(64, 'must be at most 64 characters'),
    )
    .max(RECORDED_HEADERS_MAX, `at most ${RECORDED_HEADERS_MAX} headers (each login stores them)`)
    .default(['user-agent']),
});

export const siteConfigSchema = z.strictObject({
  authServers: z.array(authServerSchema).default([]),
  users: z.array(userSchema).default([]),
  roles: z.array(roleSchema).default([]),
  gateways: z.array(gatewaySchema).default([]),
  gatewayClusters: z.array(gatewayClusterSchema).default([]),
  protocolPlans: z.array(protocolPlanSchema).default([]),
  pools: z.array(poolSchema).default([]),
  locations: z.array(locationSchema).default([]),
  policies: z.array(policySchema).default([]),
  assignments: z.array(assignmentSchema).default([]),
  settings: settingsSchema.prefault({}),
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
