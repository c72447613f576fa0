/**
 * The broker's Lambda functions: one function per handler in functions/handlers/ (the HTTP
 * ones of HTTP_FUNCTIONS, the job function, the deploy-time migration), each an asset folder
 * bundled by the local esbuild with the settings of lib/bundling.ts (code splitting:
 * `index.mjs` and its chunks; lambda-code.ts), on ARM64 and Node 22, in the VPC's private
 * subnets. Their environment is set only by the bind helpers of the other
 * constructs (and {@link bindBrokerSettings} here), each of which also grants what it needs.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionRoute, HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import { brokerFunctionCode } from './lambda-code.ts';

export type HttpFunctionName = FunctionRoute['name'];
export type BrokerFunctionName = HttpFunctionName | 'jobs' | 'migrate';

interface FunctionSpec {
  readonly description: string;
  readonly memorySize: number;
  /** Seconds; the job function's comes from the queue (JobQueue.jobFunctionTimeout). */
  readonly timeout?: number;
}

/**
 * Memory also buys CPU on Lambda: login hashes passwords with argon2id (19 MiB, CPU-bound),
 * so it gets a full vCPU's worth; the others mostly wait on the Data API and DynamoDB.
 */
const SPECS: Readonly<Record<BrokerFunctionName, FunctionSpec>> = {
  health: { description: 'Health queries (/index.pl?action=...)', memorySize: 512, timeout: 10 },
  login: { description: 'Login and logout', memorySize: 1769, timeout: 15 },
  offers: { description: 'Offers, connect, release', memorySize: 1024, timeout: 15 },
  agent: { description: 'Desktop agent events', memorySize: 512, timeout: 15 },
  admin: { description: 'Admin API', memorySize: 1024, timeout: 30 },
  'gateway-api': { description: 'Gateway forward list', memorySize: 512, timeout: 15 },
  jobs: { description: 'Background jobs from SQS', memorySize: 1024 },
  migrate: { description: 'Deploy-time schema migration', memorySize: 1024, timeout: 300 },
};

export interface BrokerFunctionsProps {
  /**
   * The VPC whose private subnets the functions run in (they reach desktops for
   * reachability probes and gateways' control APIs).
   * @default - outside any VPC (LocalStack)
   */
  readonly vpc?: ec2.IVpc;
  /** The job function's timeout: JobQueue.jobFunctionTimeout. */
  readonly jobFunctionTimeout: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
}

/** Every broker Lambda function. */
export class BrokerFunctions extends Construct {
  /** The HTTP functions, by handler name (the keys of HTTP_FUNCTIONS). */
  public readonly http: Readonly<Record<HttpFunctionName, lambda.Function>>;
  public readonly jobs: lambda.Function;
  public readonly migrate: lambda.Function;
  /** Every function above. */
  public readonly all: readonly lambda.Function[];
  /** The functions' security group (undefined outside a VPC). */
  public readonly securityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BrokerFunctionsProps) {
    super(scope, id);
    if (props.vpc) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: 'deskbroker functions: outbound to desktops, gateways and AWS APIs',
        allowAllOutbound: true,
      });
    }
    const make = (name: BrokerFunctionName, timeout: Duration) =>
      this.makeFunction(name, timeout, props);
    const http = {} as Record<HttpFunctionName, lambda.Function>;
    for (const route of HTTP_FUNCTIONS) {
      http[route.name] = make(route.name, Duration.seconds(SPECS[route.name].timeout!));
    }
    this.http = http;
    this.jobs = make('jobs', props.jobFunctionTimeout);
    this.migrate = make('migrate', Duration.seconds(SPECS.migrate.timeout!));
    this.all = [...Object.values(http), this.jobs, this.migrate];
  }

  private makeFunction(
    name: BrokerFunctionName,
    timeout: Duration,
    props: BrokerFunctionsProps,
  ): lambda.Function {
    const spec = SPECS[name];
    const id = pascalCase(name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const fn = new lambda.Function(this, id, {
      description: `deskbroker: ${spec.description}`,
      code: brokerFunctionCode(name),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: spec.memorySize,
      timeout,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
      securityGroups: this.securityGroup ? [this.securityGroup] : undefined,
    });
    acknowledgeFunctionFindings(fn, Boolean(props.vpc));
    return fn;
  }
}

const MANAGED_POLICY = 'arn:<AWS::Partition>:iam::aws:policy/service-role';

/** The cdk-nag findings every broker function has, and why they stand. */
function acknowledgeFunctionFindings(fn: lambda.Function, inVpc: boolean): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node 22 on purpose: the project runs, tests and bundles on Node 22 (the node devDependency, engines, esbuild target node22), so Lambda runs what was tested. Move all of them together.',
  });
  const role = fn.role!;
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY}/AWSLambdaBasicExecutionRole]`,
    reason: "Lambda's basic execution policy: writing the function's own CloudWatch logs.",
  });
  if (inVpc) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::${MANAGED_POLICY}/AWSLambdaVPCAccessExecutionRole]`,
      reason:
        "Lambda's VPC execution policy: creating and deleting the network interfaces of a function in the VPC (it reaches desktops and gateways there).",
    });
  }
}

export interface BrokerSettings {
  readonly siteId: number;
  readonly brokerCpus: number;
  /** The name shown in the cluster view. */
  readonly brokerName: string;
  /** The CloudWatch namespace of the broker's metrics (EMF), which the dashboard and alarms read. */
  readonly metricsNamespace: string;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Sets the broker's own settings on `fn`: SITE_ID, BROKER_NAME, BROKER_CPUS, LOG_LEVEL,
 * METRICS=emf with METRICS_NAMESPACE (metrics as EMF log lines, which CloudWatch turns into
 * metrics: no API call, nothing to grant), and NODE_OPTIONS for source-mapped stack traces.
 * Grants nothing (there is nothing to reach).
 */
export function bindBrokerSettings(fn: lambda.Function, settings: BrokerSettings): void {
  fn.addEnvironment('SITE_ID', String(settings.siteId));
  fn.addEnvironment('BROKER_NAME', settings.brokerName);
  fn.addEnvironment('BROKER_CPUS', String(settings.brokerCpus));
  fn.addEnvironment('LOG_LEVEL', settings.logLevel ?? 'INFO');
  fn.addEnvironment('METRICS', 'emf');
  fn.addEnvironment('METRICS_NAMESPACE', settings.metricsNamespace);
  fn.addEnvironment('NODE_OPTIONS', '--enable-source-maps');
}

/** The CloudWatch namespace of a deployment's own metrics (broker EMF and gateway log metrics). */
export const metricsNamespace = (stackName: string) => `Deskbroker/${stackName}`;

const pascalCase = (name: string) =>
  name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
