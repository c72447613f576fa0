/**
 * The broker's configuration: every environment variable it reads, read once and validated.
 * Lambda handlers and the local runtime both call {@link loadConfig}; nothing else in
 * `functions/` reads `process.env`.
 */
import os from 'node:os';
import path from 'node:path';
import * as z from './core/zod.ts';

/** Thrown when an environment variable is missing or malformed; the message names it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const intIn = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));
const url = z.url();

const schema = z.object({
  PORT: z._default(intIn(0, 65535), 8080),
  HOST: z._default(z.string().check(z.minLength(1)), '127.0.0.1'),
  DESKBROKER_HOME: z._default(z.string().check(z.minLength(1)), './.deskbroker'),
  SITE_DB_URL: z.optional(
    z
      .string()
      .check(
        z.regex(/^(postgres(ql)?:\/\/|pglite:\/\/)/, 'must start with postgres:// or pglite://'),
      ),
  ),
  SITE_DB_CLUSTER_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  SITE_DB_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  SITE_DB_NAME: z._default(z.string().check(z.minLength(1)), 'deskbroker'),
  SECONDARY_DB_URL: z.optional(
    z.string().check(z.regex(/^postgres(ql)?:\/\//, 'must start with postgres://')),
  ),
  SECONDARY_DB_CLUSTER_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  SECONDARY_DB_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  SECONDARY_DB_NAME: z.optional(z.string().check(z.minLength(1))),
  RDS_DATA_ENDPOINT: z.optional(url),
  SITE_ID: z._default(intIn(1, 2_147_483_647), 1),
  BROKER_NAME: z._default(z.string().check(z.minLength(1)), os.hostname()),
  BROKER_CPUS: z._default(intIn(1, 1024), os.availableParallelism()),
  STATE_TABLE: z._default(z.string().check(z.minLength(3)), 'deskbroker-state'),
  DYNAMODB_ENDPOINT: z.optional(url),
  JOB_QUEUE_URL: z.optional(url),
  SQS_ENDPOINT: z.optional(url),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  SECRETS_KEY_ARN: z.optional(z.string().check(z.minLength(1))),
  KMS_ENDPOINT: z.optional(url),
  SECRETS_KEY_FILE: z.optional(z.string().check(z.minLength(1))),
  DESKBROKER_ADMIN_PASSWORD: z.optional(
    z.string().check(z.minLength(8, 'must be at least 8 characters')),
  ),
  HEALTH_MAX_LOAD: z._default(z.coerce.number().check(z.positive()), 4),
  HEALTH_TIMEOUT_MS: z._default(intIn(50, 30_000), 1000),
  DB_STATEMENT_TIMEOUT_MS: z._default(intIn(100, 600_000), 5000),
  DB_REQUEST_TIMEOUT_MS: z._default(intIn(50, 60_000), 1000),
  SESSION_IDLE_MINUTES: z._default(intIn(1, 60 * 24 * 30), 60),
  SESSION_MAX_HOURS: z._default(intIn(1, 24 * 90), 12),
  LOGIN_MAX_FAILURES: z._default(intIn(1, 1000), 5),
  LOGIN_LOCKOUT_SECONDS: z._default(intIn(1, 86_400), 300),
  GATEWAY_SECRET: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
  GATEWAY_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  DESKBROKER_ADMIN_PASSWORD_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  CDN_ORIGIN_SECRET: z.optional(
    z.string().check(z.minLength(16, 'must be at least 16 characters')),
  ),
  CDN_ORIGIN_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
  GATEWAY_TIMEOUT_MS: z._default(intIn(100, 30_000), 2000),
  CONFIG_CACHE_SECONDS: z._default(intIn(0, 3600), 5),
  LOGIN_FAILURE_FLOOR_MS: z._default(intIn(0, 10_000), 250),
  PROBE_TIMEOUT_MS: z._default(intIn(50, 10_000), 300),
  PROBE_CACHE_SECONDS: z._default(intIn(0, 3600), 30),
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']), 'INFO'),
  METRICS: z._default(z.enum(['prometheus', 'emf', 'off']), 'prometheus'),
  METRICS_NAMESPACE: z._default(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be a CloudWatch namespace such as Deskbroker'),
      ),
    'Deskbroker',
  ),
  HEARTBEAT_SECONDS: z.optional(intIn(5, 3600)),
});

type Env = z.infer<typeof schema>;

/** The master key of stored secrets (LDAP bind passwords, TOTP secrets). */
export type SecretsKeyTarget =
  | { kind: 'kms'; keyId: string; region: string; endpoint?: string }
  | { kind: 'file'; path: string };

/** How the broker reaches one site database. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; path: string }
  | {
      kind: 'data-api';
      clusterArn: string;
      secretArn: string;
      database: string;
      region: string;
      endpoint?: string;
    };

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Folder for the embedded database and state of the local runtime. */
  readonly home: string;
  readonly siteDb: DatabaseTarget;
  readonly secondaryDb?: DatabaseTarget;
  readonly siteId: number;
  readonly brokerName: string;
  readonly brokerCpus: number;
  readonly stateTable: string;
  readonly dynamoDbEndpoint?: string;
  readonly jobQueueUrl?: string;
  readonly sqsEndpoint?: string;
  readonly region: string;
  /** Where the master key of stored secrets is: a KMS key, or a key file. */
  readonly secretsKey: SecretsKeyTarget;
  readonly adminPassword?: string;
  readonly health: { readonly maxLoad: number; readonly timeoutMs: number };
  readonly dbStatementTimeoutMs: number;
  /** Longest a request (login, offers, connect, agent event) waits for one statement before leased mode. */
  readonly dbRequestTimeoutMs: number;
  readonly sessions: { readonly idleMinutes: number; readonly maxHours: number };
  readonly throttle: { readonly maxFailures: number; readonly lockoutSeconds: number };
  readonly gatewaySecret?: string;
  /**
   * The value CloudFront puts in the `x-deskbroker-cdn` header of every request it passes to
   * the load balancer: such a request's client is the address CloudFront saw (the
   * X-Forwarded-For entry before the load balancer's).
   */
  readonly cdnOriginSecret?: string;
  /**
   * Secrets Manager ARNs of secrets resolved at start-up (Lambda): the values stay out of the
   * functions' environment. See adapters/secrets.ts.
   */
  readonly secretArns: {
    readonly gatewaySecret?: string;
    readonly adminPassword?: string;
    readonly cdnOriginSecret?: string;
  };
  readonly gatewayTimeoutMs: number;
  /** How long a broker reuses its copy of the site configuration on the login path. */
  readonly configCacheMs: number;
  /** Every failed login takes at least this long (no timing oracle). */
  readonly loginFailureFloorMs: number;
  readonly probe: { readonly timeoutMs: number; readonly cacheMs: number };
  readonly logLevel: Env['LOG_LEVEL'];
  /**
   * Where metrics go: `prometheus` (the local runtime's `GET /metrics`), `emf` (CloudWatch's
   * embedded metric format in the logs, on Lambda), or `off`.
   */
  readonly metrics: { readonly kind: Env['METRICS']; readonly namespace: string };
  /**
   * The heartbeat period fixed by the runtime (on AWS, the EventBridge schedule that drives
   * the heartbeat job): it overrides the site's `settings.heartbeatSeconds`, which is then
   * refused when it differs. Undefined locally, where the setting rules.
   */
  readonly heartbeatSeconds?: number;
}

/**
 * Reads and validates the configuration from an environment.
 * @throws {ConfigError} naming the first variable that is wrong, and why.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(`environment variable ${variable}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    home: e.DESKBROKER_HOME,
    siteDb: primaryTarget(e),
    secondaryDb: secondaryTarget(e),
    siteId: e.SITE_ID,
    brokerName: e.BROKER_NAME,
    brokerCpus: e.BROKER_CPUS,
    stateTable: e.STATE_TABLE,
    dynamoDbEndpoint: e.DYNAMODB_ENDPOINT,
    jobQueueUrl: e.JOB_QUEUE_URL,
    sqsEndpoint: e.SQS_ENDPOINT,
    region: e.AWS_REGION,
    secretsKey: e.SECRETS_KEY_ARN
      ? { kind: 'kms', keyId: e.SECRETS_KEY_ARN, region: e.AWS_REGION, endpoint: e.KMS_ENDPOINT }
      : { kind: 'file', path: e.SECRETS_KEY_FILE ?? path.join(e.DESKBROKER_HOME, 'secrets.key') },
    adminPassword: e.DESKBROKER_ADMIN_PASSWORD,
    health: { maxLoad: e.HEALTH_MAX_LOAD, timeoutMs: e.HEALTH_TIMEOUT_MS },
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbRequestTimeoutMs: e.DB_REQUEST_TIMEOUT_MS,
    sessions: { idleMinutes: e.SESSION_IDLE_MINUTES, maxHours: e.SESSION_MAX_HOURS },
    throttle: { maxFailures: e.LOGIN_MAX_FAILURES, lockoutSeconds: e.LOGIN_LOCKOUT_SECONDS },
    gatewaySecret: e.GATEWAY_SECRET,
    cdnOriginSecret: e.CDN_ORIGIN_SECRET,
    secretArns: {
      gatewaySecret: e.GATEWAY_SECRET_ARN,
      adminPassword: e.DESKBROKER_ADMIN_PASSWORD_ARN,
      cdnOriginSecret: e.CDN_ORIGIN_SECRET_ARN,
    },
    gatewayTimeoutMs: e.GATEWAY_TIMEOUT_MS,
    configCacheMs: e.CONFIG_CACHE_SECONDS * 1000,
    loginFailureFloorMs: e.LOGIN_FAILURE_FLOOR_MS,
    probe: { timeoutMs: e.PROBE_TIMEOUT_MS, cacheMs: e.PROBE_CACHE_SECONDS * 1000 },
    logLevel: e.LOG_LEVEL,
    metrics: { kind: e.METRICS, namespace: e.METRICS_NAMESPACE },
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
  };
}

function primaryTarget(e: Env): DatabaseTarget {
  if (e.SITE_DB_URL && e.SITE_DB_CLUSTER_ARN) {
    throw new ConfigError(
      'environment variable SITE_DB_URL: set either SITE_DB_URL or SITE_DB_CLUSTER_ARN, not both',
    );
  }
  if (e.SITE_DB_CLUSTER_ARN) {
    if (!e.SITE_DB_SECRET_ARN) {
      throw new ConfigError(
        'environment variable SITE_DB_SECRET_ARN: required when SITE_DB_CLUSTER_ARN is set',
      );
    }
    return {
      kind: 'data-api',
      clusterArn: e.SITE_DB_CLUSTER_ARN,
      secretArn: e.SITE_DB_SECRET_ARN,
      database: e.SITE_DB_NAME,
      region: e.AWS_REGION,
      endpoint: e.RDS_DATA_ENDPOINT,
    };
  }
  return parseDatabaseUrl(e.SITE_DB_URL ?? `pglite://${e.DESKBROKER_HOME}/site`);
}

function secondaryTarget(e: Env): DatabaseTarget | undefined {
  if (e.SECONDARY_DB_URL && e.SECONDARY_DB_CLUSTER_ARN) {
    throw new ConfigError(
      'environment variable SECONDARY_DB_URL: set either SECONDARY_DB_URL or SECONDARY_DB_CLUSTER_ARN, not both',
    );
  }
  if (e.SECONDARY_DB_CLUSTER_ARN) {
    const secretArn = e.SECONDARY_DB_SECRET_ARN ?? e.SITE_DB_SECRET_ARN;
    if (!secretArn) {
      throw new ConfigError(
        'environment variable SECONDARY_DB_SECRET_ARN: required when SECONDARY_DB_CLUSTER_ARN is set',
      );
    }
    return {
      kind: 'data-api',
      clusterArn: e.SECONDARY_DB_CLUSTER_ARN,
      secretArn,
      database: e.SECONDARY_DB_NAME ?? e.SITE_DB_NAME,
      region: e.AWS_REGION,
      endpoint: e.RDS_DATA_ENDPOINT,
    };
  }
  return e.SECONDARY_DB_URL ? parseDatabaseUrl(e.SECONDARY_DB_URL) : undefined;
}

/**
 * Turns `postgres://...` or `pglite://PATH` into a database target.
 * @throws {ConfigError} for any other scheme.
 */
export function parseDatabaseUrl(value: string): DatabaseTarget {
  if (value.startsWith('pglite://')) {
    const path = value.slice('pglite://'.length);
    if (!path) throw new ConfigError('database URL pglite://PATH needs a PATH');
    return { kind: 'pglite', path };
  }
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  throw new ConfigError(`database URL "${value}" must start with postgres:// or pglite://`);
}

/** A database target for logs and status pages: no password, no secret. */
export function describeTarget(target: DatabaseTarget): string {
  switch (target.kind) {
    case 'pglite':
      return `pglite://${target.path}`;
    case 'postgres': {
      const u = new URL(target.url);
      u.password = '';
      return u.toString();
    }
    case 'data-api':
      return `data-api://${target.clusterArn.split(':').pop()}/${target.database}`;
  }
}
