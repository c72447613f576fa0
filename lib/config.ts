/**
 * The deployment's configuration: the context values of `cdk.json` (or `-c key=value` on the
 * command line), read once and validated. docs/deploy.md documents every value.
 */
import * as z from '../functions/core/zod.ts';
import { portRangeSchema } from '../functions/gateway/config.ts';

/** Thrown when a context value is missing, malformed, or contradicts another; the message names it. */
export class DeployConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeployConfigError';
  }
}

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** An inclusive TCP port range. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface DeployConfig {
  /**
   * The AWS region to deploy to; empty falls back to the CLI's (CDK_DEFAULT_REGION). Without
   * any, the stacks are region-agnostic and the load balancer keeps no access logs.
   */
  readonly region?: string;
  /** Prefix of the stack names: `<prefix>-Stateful`, `<prefix>-Stateless`. */
  readonly stackPrefix: string;
  /** The broker's site ID (SITE_ID). */
  readonly siteId: number;
  /** Capacity that sets the job Lambda's SQS maximum concurrency (BROKER_CPUS). */
  readonly brokerCpus: number;
  /** ACM certificate of the HTTPS listeners; undefined serves plain HTTP (tests only). */
  readonly certificateArn?: string;
  /** The DNS name clients and gateways use for the broker (the certificate's name). */
  readonly domainName?: string;
  /** An existing VPC to deploy into; undefined creates one. */
  readonly vpcId?: string;
  /** NAT gateways of a created VPC. */
  readonly natGateways: number;
  readonly gatewayDesiredCount: number;
  readonly gatewayMaxCount: number;
  readonly gatewayPortRange: PortRange;
  /** Who may open desktop connections to the gateways' forward ports. */
  readonly gatewayClientCidr: string;
  readonly logRetentionDays: (typeof LOG_RETENTION_DAYS)[number];
  /** A second Aurora cluster as the guide's failover database. */
  readonly secondaryDatabase: boolean;
  readonly dbMinCapacity: number;
  readonly dbMaxCapacity: number;
  /** LocalStack (free edition): no VPC, ALB, Aurora or Fargate; the site database is `siteDbUrl`. */
  readonly localstack: boolean;
  /** PostgreSQL URL of the site database in LocalStack mode. */
  readonly siteDbUrl?: string;
  /** A custom DNS name for the portal (CloudFront); empty: the distribution's own name. */
  readonly portalDomainName?: string;
  /** ACM certificate for portalDomainName, in us-east-1 (CloudFront's region for certificates). */
  readonly portalCertificateArn?: string;
  /** Where alarm notifications are emailed (an SNS email subscription); undefined: none. */
  readonly alarmEmail?: string;
}

const bool = z.union([
  z.boolean(),
  z.pipe(
    z.enum(['true', 'false']),
    z.transform((v) => v === 'true'),
  ),
]);
const int = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));
const optionalText = z.optional(
  z.pipe(
    z.string().check(z.trim()),
    z.transform((v) => (v === '' ? undefined : v)),
  ),
);
const halfStep = z.coerce.number().check(
  z.minimum(0),
  z.maximum(256),
  z.refine((n) => Number.isInteger(n * 2), 'must be a multiple of 0.5'),
);

// Ports below 1024 are refused for gateway forwards on AWS (the task runs unprivileged).
const portRange = portRangeSchema(1024);

const schema = z.object({
  region: optionalText.check(
    z.refine(
      (v) => v === undefined || /^[a-z]{2}(-[a-z]+)+-\d$/.test(v),
      'must be an AWS region such as eu-west-1, or empty',
    ),
  ),
  stackPrefix: z._default(
    z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must be letters, digits and dashes')),
    'Deskbroker',
  ),
  siteId: z._default(int(1, 2_147_483_647), 1),
  brokerCpus: z._default(int(1, 1024), 2),
  certificateArn: optionalText.check(
    z.refine(
      (v) => v === undefined || /^arn:aws[a-z-]*:acm:/.test(v),
      'must be an ACM certificate ARN (arn:aws:acm:...) or empty for plain HTTP',
    ),
  ),
  domainName: optionalText.check(
    z.refine((v) => v === undefined || /^[a-z0-9.-]+$/i.test(v), 'must be a DNS name'),
  ),
  vpcId: optionalText.check(
    z.refine(
      (v) => v === undefined || /^vpc-[0-9a-f]+$/.test(v),
      'must be a VPC ID (vpc-...) or empty to create a VPC',
    ),
  ),
  natGateways: z._default(
    z.coerce
      .number()
      .check(
        z.int(),
        z.minimum(
          1,
          'must be at least 1: the functions reach the AWS APIs (Data API, SQS, Secrets Manager) through it',
        ),
        z.maximum(3),
      ),
    1,
  ),
  gatewayDesiredCount: z._default(int(0, 100), 1),
  gatewayMaxCount: z._default(int(1, 100), 4),
  gatewayPortRange: z._default(portRange, { from: 20001, to: 23000 }),
  gatewayClientCidr: z._default(
    z
      .string()
      .check(z.regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 0.0.0.0/0')),
    '0.0.0.0/0',
  ),
  logRetentionDays: z._default(
    z.coerce.number().check(
      z.refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      }),
    ),
    30,
  ),
  secondaryDatabase: z._default(bool, false),
  dbMinCapacity: z._default(halfStep, 0.5),
  dbMaxCapacity: z._default(halfStep.check(z.refine((n) => n >= 1, 'must be at least 1')), 4),
  localstack: z._default(bool, false),
  siteDbUrl: optionalText.check(
    z.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  ),
  portalDomainName: optionalText.check(
    z.refine((v) => v === undefined || /^[a-z0-9.-]+$/i.test(v), 'must be a DNS name'),
  ),
  portalCertificateArn: optionalText.check(
    z.refine(
      (v) => v === undefined || /^arn:aws[a-z-]*:acm:us-east-1:/.test(v),
      'must be an ACM certificate ARN in us-east-1 (CloudFront reads certificates only from there), or empty',
    ),
  ),
  alarmEmail: optionalText.check(
    z.refine(
      (v) => v === undefined || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v),
      'must be an email address, or empty for no email',
    ),
  ),
});

/** The context keys this app reads. */
export const CONTEXT_KEYS = Object.keys(schema.shape) as readonly (keyof DeployConfig)[];

/**
 * Reads and validates the deployment configuration.
 * @param tryGetContext how to read one context value (`app.node.tryGetContext`).
 * @throws {DeployConfigError} naming the first context value that is wrong, and why, or two
 *   values that do not go together.
 */
export function readDeployConfig(tryGetContext: (key: string) => unknown): DeployConfig {
  const raw = Object.fromEntries(
    CONTEXT_KEYS.map((key) => {
      const value = tryGetContext(key);
      return [key, value === null || value === '' ? undefined : value];
    }),
  );
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeployConfigError(`context value ${String(issue.path[0])}: ${issue.message}`);
  }
  const c = parsed.data as DeployConfig;
  checkCombinations(c);
  return c;
}

function checkCombinations(c: DeployConfig): void {
  const fail = (key: string, message: string) => {
    throw new DeployConfigError(`context value ${key}: ${message}`);
  };
  if (c.gatewayDesiredCount > c.gatewayMaxCount) {
    fail(
      'gatewayDesiredCount',
      `is ${c.gatewayDesiredCount}, above gatewayMaxCount (${c.gatewayMaxCount})`,
    );
  }
  if (c.dbMinCapacity > c.dbMaxCapacity) {
    fail('dbMinCapacity', `is ${c.dbMinCapacity}, above dbMaxCapacity (${c.dbMaxCapacity})`);
  }
  if (c.certificateArn && !c.domainName) {
    fail(
      'domainName',
      'is required with certificateArn: the name on the certificate, which clients and gateways use',
    );
  }
  if (Boolean(c.portalDomainName) !== Boolean(c.portalCertificateArn)) {
    fail(
      c.portalDomainName ? 'portalCertificateArn' : 'portalDomainName',
      'portalDomainName and portalCertificateArn go together: the custom name and its certificate',
    );
  }
  if (c.localstack) {
    if (c.portalDomainName)
      fail('portalDomainName', 'must be empty with localstack=true (no CloudFront)');
    if (!c.siteDbUrl)
      fail('siteDbUrl', 'is required with localstack=true (LocalStack has no Aurora)');
    if (c.certificateArn)
      fail('certificateArn', 'must be empty with localstack=true (no load balancer)');
    if (c.vpcId) fail('vpcId', 'must be empty with localstack=true (no VPC)');
    if (c.secondaryDatabase) fail('secondaryDatabase', 'must be false with localstack=true');
  } else if (c.siteDbUrl) {
    fail('siteDbUrl', 'is only for localstack=true; on AWS the site database is Aurora');
  }
  const { from, to } = c.gatewayPortRange;
  for (const port of [GATEWAY_HTTP_PORT, GATEWAY_CONTROL_PORT]) {
    if (port >= from && port <= to) {
      fail('gatewayPortRange', `${from}-${to} includes the gateway's own port ${port}`);
    }
  }
}

/** The gateway's public HTTP face (functions/gateway/config.ts GATEWAY_HTTP_PORT default). */
export const GATEWAY_HTTP_PORT = 8443;
/** The gateway's control API (GATEWAY_CONTROL_PORT default). */
export const GATEWAY_CONTROL_PORT = 9443;
