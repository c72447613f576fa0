/**
 * The gateway on Fargate, built from functions/gateway/Dockerfile at deploy time (synth only
 * stages the build context: no Docker needed to synthesize).
 *
 * - HTTP face (ping, login forwarding, HTML5 display): a listener of the broker's load
 *   balancer on port 8443 forwards to an `ip` target group with cookie stickiness, so a client
 *   keeps its login gateway (the guide's sticky sessions). Browsers' WebSockets for desktops in
 *   the browser go through the same listener; they need no stickiness: any gateway task
 *   redeems any ticket at the broker (the single use is in the state table).
 * - Desktop ports: each task has a public IP, and its security group admits the forward
 *   port range from `clientCidr`; the gateway itself accepts a forward only from the
 *   client's address. A Network Load Balancer cannot do this job: its listeners take one
 *   port each, at most 50 per load balancer (not adjustable), and an ECS service registers
 *   with at most 5 target groups, while the range holds 3,000 ports.
 * - Control API (9443): reachable only from the broker functions' security group.
 * - Autoscaling on CPU and on active sessions per task (open forwards plus HTML5 connections):
 *   a metric filter turns the gateway's JSON stats lines that carry `activeSessions` into a
 *   metric (see docs/deploy.md).
 */
import { Duration, IgnoreMode, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { REPO_ROOT } from '../bundling.ts';
import { GATEWAY_CONTROL_PORT, GATEWAY_HTTP_PORT, type PortRange } from '../config.ts';
import { metricsNamespace } from './broker-functions.ts';

/** The gateway's liveness query (functions/gateway/public-http.ts). */
export const GATEWAY_PING_PATH = '/app/system/ping';
/**
 * The JSON log field the ActiveSessions metric is read from: the desktop paths a gateway
 * carries, forwards plus HTML5 connections (functions/gateway/gateway.ts `statsLine`).
 */
export const ACTIVE_SESSIONS_FIELD = 'activeSessions';

export interface GatewayServiceProps {
  readonly vpc: ec2.IVpc;
  /** The broker's load balancer; the gateway's HTTP face gets a listener on it. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** @default - plain HTTP on the gateway listener */
  readonly certificate?: acm.ICertificate;
  /** GATEWAY_SECRET, shared with the broker functions. */
  readonly gatewaySecret: secretsmanager.ISecret;
  /** BROKER_URL: where the gateway forwards logins and fetches its forwards on start. */
  readonly brokerUrl: string;
  /** @default 1 */
  readonly desiredCount?: number;
  /** @default 4 */
  readonly maxCount?: number;
  /** GATEWAY_PORT_RANGE. @default { from: 20001, to: 23000 } */
  readonly portRange?: PortRange;
  /** Who may connect to the forward ports. @default '0.0.0.0/0' */
  readonly clientCidr?: string;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** @default 60 */
  readonly cpuTargetPercent?: number;
  /** Active sessions (forwards plus HTML5 connections) per task that autoscaling aims at. @default 1000 */
  readonly sessionsPerTask?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** The gateway's Fargate service. */
export class GatewayService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly service: ecs.FargateService;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The `ip` target group of the HTTP face, with cookie stickiness. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly listener: elbv2.ApplicationListener;
  public readonly logGroup: logs.LogGroup;
  /** Average active sessions (forwards plus HTML5 connections) per task, from the gateways' logs. */
  public readonly activeSessionsMetric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: GatewayServiceProps) {
    super(scope, id);
    const desiredCount = props.desiredCount ?? 1;
    const maxCount = props.maxCount ?? 4;
    const range = props.portRange ?? { from: 20001, to: 23000 };
    if (!Number.isInteger(desiredCount) || desiredCount < 0) {
      throw new Error('GatewayService: desiredCount must be a whole number ≥ 0');
    }
    if (maxCount < Math.max(1, desiredCount)) {
      throw new Error(
        `GatewayService: maxCount (${maxCount}) must be at least desiredCount (${desiredCount}) and 1`,
      );
    }
    if (range.from > range.to || range.from < 1024 || range.to > 65535) {
      throw new Error('GatewayService: portRange must be FROM-TO within 1024..65535');
    }
    for (const port of [GATEWAY_HTTP_PORT, GATEWAY_CONTROL_PORT]) {
      if (port >= range.from && port <= range.to) {
        throw new Error(`GatewayService: portRange includes the gateway's own port ${port}`);
      }
    }

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: {
        // x86_64: the image builds on the deploying machine, and most CI runners are x86;
        // an ARM64 task would need Docker buildx with QEMU there.
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const container = this.taskDefinition.addContainer('Gateway', {
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: 'functions/gateway/Dockerfile',
        platform: Platform.LINUX_AMD64,
        // The build context is what the Dockerfile copies: package files and functions/.
        ignoreMode: IgnoreMode.DOCKER,
        exclude: ['*', '!package.json', '!package-lock.json', '!functions'],
      }),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'gateway', logGroup: this.logGroup }),
      environment: {
        GATEWAY_PORT_RANGE: `${range.from}-${range.to}`,
        GATEWAY_HTTP_PORT: String(GATEWAY_HTTP_PORT),
        GATEWAY_CONTROL_PORT: String(GATEWAY_CONTROL_PORT),
        BROKER_URL: props.brokerUrl,
        // X-Forwarded-For is trusted from the load balancer's addresses in the VPC only.
        GATEWAY_TRUSTED_PROXIES: props.vpc.vpcCidrBlock,
        LOG_LEVEL: 'INFO',
      },
      secrets: { GATEWAY_SECRET: ecs.Secret.fromSecretsManager(props.gatewaySecret) },
      portMappings: [
        { containerPort: GATEWAY_HTTP_PORT, name: 'http' },
        { containerPort: GATEWAY_CONTROL_PORT, name: 'control' },
        {
          containerPort: ecs.ContainerDefinition.CONTAINER_PORT_USE_RANGE,
          containerPortRange: `${range.from}-${range.to}`,
        },
      ],
      // 3,000 forwards with live connections need about 6,000 descriptors and more.
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65_536, hardLimit: 65_536 }],
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The task execution role: ecr:GetAuthorizationToken has no resource to scope to (IAM accepts only *); the image pull and log writes are scoped by CDK.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret settings (ports, broker URL, trusted proxy range); GATEWAY_SECRET comes from Secrets Manager through ECS secrets.',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'deskbroker gateways: forward ports from clients, control API from the broker',
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.ipv4(props.clientCidr ?? '0.0.0.0/0'),
      ec2.Port.tcpRange(range.from, range.to),
      'desktop forwards (each accepts only its client address)',
    );
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'Remote-desktop clients connect from anywhere to the forward ports; the gateway accepts each forwarded port only from the address of the client it was opened for.',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [this.securityGroup],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(30),
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'HttpTarget', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      port: GATEWAY_HTTP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      healthCheck: {
        path: GATEWAY_PING_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
      },
      stickinessCookieDuration: Duration.days(1),
      deregistrationDelay: Duration.seconds(30),
      targets: [
        this.service.loadBalancerTarget({
          containerName: container.containerName,
          containerPort: GATEWAY_HTTP_PORT,
        }),
      ],
    });
    this.listener = props.loadBalancer.addListener('Gateway', {
      port: GATEWAY_HTTP_PORT,
      protocol: props.certificate
        ? elbv2.ApplicationProtocol.HTTPS
        : elbv2.ApplicationProtocol.HTTP,
      certificates: props.certificate ? [props.certificate] : undefined,
      sslPolicy: props.certificate ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      open: true,
      defaultTargetGroups: [this.targetGroup],
    });

    const sessions = this.logGroup.addMetricFilter('ActiveSessions', {
      filterPattern: logs.FilterPattern.numberValue(`$.${ACTIVE_SESSIONS_FIELD}`, '>=', 0),
      metricNamespace: metricsNamespace(Stack.of(this).stackName),
      metricName: 'GatewayActiveSessions',
      metricValue: `$.${ACTIVE_SESSIONS_FIELD}`,
    });
    this.activeSessionsMetric = sessions.metric({
      statistic: 'Average',
      period: Duration.minutes(1),
    });

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: desiredCount,
      maxCapacity: maxCount,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent ?? 60,
    });
    scaling.scaleToTrackCustomMetric('ActiveSessions', {
      metric: this.activeSessionsMetric,
      targetValue: props.sessionsPerTask ?? 1000,
    });
  }

  /** Lets `fn` (in the VPC) reach the gateways' control API; sets nothing. */
  public bindControl(fn: lambda.Function): void {
    this.securityGroup.connections.allowFrom(
      fn,
      ec2.Port.tcp(GATEWAY_CONTROL_PORT),
      'broker functions to the gateway control API',
    );
  }
}
