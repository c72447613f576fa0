/**
 * What the app refuses: invalid context values and combinations (readDeployConfig), invalid
 * prop combinations of each construct, and cdk-nag findings (synth fails on them). No full
 * synthesis here: constructors throw before anything is written.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import { DeployConfigError, readDeployConfig } from '../../lib/config.ts';
import { Alarms } from '../../lib/constructs/alarms.ts';
import { BrokerApi } from '../../lib/constructs/broker-api.ts';
import type { HttpFunctionName } from '../../lib/constructs/broker-functions.ts';
import { GatewayService } from '../../lib/constructs/gateway-service.ts';
import { JobQueue } from '../../lib/constructs/job-queue.ts';
import { Network } from '../../lib/constructs/network.ts';
import { Schedules } from '../../lib/constructs/schedules.ts';
import { ExternalSiteDatabase, SiteDatabase } from '../../lib/constructs/site-database.ts';
import { buildDeskbroker } from '../../lib/deskbroker.ts';
import { testContext } from './synth.ts';

const configWith = (overrides: Record<string, unknown>) => {
  const context = testContext(overrides);
  return readDeployConfig((key) => context[key]);
};

describe('context values', () => {
  it('reads cdk.json as it is', () => {
    const config = configWith({});
    expect(config).toMatchObject({
      siteId: 1,
      brokerCpus: 2,
      certificateArn: undefined,
      vpcId: undefined,
      gatewayPortRange: { from: 20001, to: 23000 },
      logRetentionDays: 30,
      secondaryDatabase: false,
      localstack: false,
    });
  });

  it('reads command-line strings (-c key=value) as numbers and booleans', () => {
    const config = configWith({ brokerCpus: '8', secondaryDatabase: 'true', siteId: '3' });
    expect(config).toMatchObject({ brokerCpus: 8, secondaryDatabase: true, siteId: 3 });
  });

  it.each([
    [{ brokerCpus: 0 }, 'brokerCpus'],
    [{ brokerCpus: 'two' }, 'brokerCpus'],
    [{ logRetentionDays: 31 }, 'logRetentionDays'],
    [{ gatewayPortRange: '20001' }, 'gatewayPortRange'],
    [{ gatewayPortRange: '9000-9500' }, 'gatewayPortRange: 9000-9500 includes'],
    [{ certificateArn: 'not-an-arn' }, 'certificateArn'],
    [{ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/x' }, 'domainName'],
    [{ vpcId: 'vpc_1' }, 'vpcId'],
    [{ natGateways: 0 }, 'natGateways: must be at least 1'],
    [{ gatewayDesiredCount: 5, gatewayMaxCount: 4 }, 'gatewayDesiredCount'],
    [{ dbMinCapacity: 8, dbMaxCapacity: 4 }, 'dbMinCapacity'],
    [{ dbMinCapacity: 0.3 }, 'dbMinCapacity'],
    [{ localstack: true }, 'siteDbUrl'],
    [{ siteDbUrl: 'postgres://x@h/db' }, 'siteDbUrl: is only for localstack'],
    [
      { localstack: true, siteDbUrl: 'postgres://x@h/db', secondaryDatabase: true },
      'secondaryDatabase',
    ],
    [{ region: 'Europe' }, 'region'],
    [{ portalDomainName: 'desktops.example.org' }, 'portalCertificateArn'],
    [
      { portalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' },
      'portalDomainName',
    ],
    [
      {
        portalDomainName: 'desktops.example.org',
        portalCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/x',
      },
      'portalCertificateArn: must be an ACM certificate ARN in us-east-1',
    ],
  ])('refuses %j, naming %s', (overrides, name) => {
    expect(() => configWith(overrides)).toThrow(DeployConfigError);
    expect(() => configWith(overrides)).toThrow(`context value ${name}`);
  });

  it('needs an account and region to import a VPC', () => {
    const app = new App({ context: testContext({ vpcId: 'vpc-0123abcd' }) });
    const config = readDeployConfig((key) => app.node.tryGetContext(key));
    expect(() => buildDeskbroker(app, config, {})).toThrow(/vpcId: importing a VPC needs/);
  });
});

/** A stack with a two-AZ VPC for construct tests. */
function stackWithVpc(azs = 2) {
  const stack = new Stack(new App(), 'Test', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: azs, natGateways: 1 });
  return { stack, vpc };
}

const inlineFunction = (stack: Stack, id: string, timeout = Duration.seconds(10)) =>
  new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    timeout,
  });

describe('construct props', () => {
  it('JobQueue: visibility below 6 × the job timeout', () => {
    const { stack } = stackWithVpc();
    expect(
      () =>
        new JobQueue(stack, 'Q', {
          jobFunctionTimeout: Duration.minutes(2),
          visibilityTimeout: Duration.minutes(11),
        }),
    ).toThrow(/at least 6 × jobFunctionTimeout \(720 s\)/);
  });

  it('JobQueue: a job function slower than the queue was sized for', () => {
    const { stack } = stackWithVpc();
    const queue = new JobQueue(stack, 'Q', { jobFunctionTimeout: Duration.seconds(30) });
    const fn = inlineFunction(stack, 'Jobs', Duration.seconds(60));
    expect(() => queue.bindConsumer(fn, { maxConcurrency: 12 })).toThrow(
      /timeout \(60 s\) is longer than jobFunctionTimeout \(30 s\)/,
    );
  });

  it('JobQueue: a maximum concurrency Lambda refuses', () => {
    const { stack } = stackWithVpc();
    const queue = new JobQueue(stack, 'Q');
    const fn = inlineFunction(stack, 'Jobs');
    expect(() => queue.bindConsumer(fn, { maxConcurrency: 1 })).toThrow();
  });

  it('SiteDatabase: minimum capacity above the maximum', () => {
    const { stack, vpc } = stackWithVpc();
    expect(() => new SiteDatabase(stack, 'Db', { vpc, minCapacity: 8, maxCapacity: 2 })).toThrow(
      /minCapacity \(8\) is above maxCapacity \(2\)/,
    );
  });

  it('SiteDatabase: a reader without a second AZ', () => {
    const { stack, vpc } = stackWithVpc(1);
    expect(() => new SiteDatabase(stack, 'Db', { vpc })).toThrow(/at least two AZs/);
  });

  it('ExternalSiteDatabase: not a PostgreSQL URL', () => {
    const { stack } = stackWithVpc();
    expect(() => new ExternalSiteDatabase(stack, 'Db', { url: 'mysql://h/db' })).toThrow(
      /postgres:\/\//,
    );
  });

  it('Network: fewer than two AZs', () => {
    const { stack } = stackWithVpc();
    expect(() => new Network(stack, 'Net', { maxAzs: 1 })).toThrow(/at least 2/);
  });

  function api(
    stack: Stack,
    vpc: ec2.IVpc,
    props: Partial<ConstructorParameters<typeof BrokerApi>[2]> = {},
  ) {
    const functions = Object.fromEntries(
      HTTP_FUNCTIONS.map((f) => [f.name, inlineFunction(stack, `Fn${f.name}`)]),
    ) as Record<HttpFunctionName, lambda.Function>;
    return new BrokerApi(stack, 'Api', { vpc, functions, ...props });
  }

  it('BrokerApi: a health check timeout not shorter than its interval', () => {
    const { stack, vpc } = stackWithVpc();
    expect(() =>
      api(stack, vpc, {
        healthCheckInterval: Duration.seconds(30),
        healthCheckTimeout: Duration.seconds(30),
      }),
    ).toThrow(/must be shorter than healthCheckInterval/);
  });

  it('BrokerApi: an idle timeout shorter than 4 gateway keep-alive pings, or over the limit', () => {
    for (const [seconds, message] of [
      [60, /between 120 s \(4 gateway keep-alive pings\) and 4000 s/],
      [4001, /idleTimeout \(4001 s\)/],
    ] as const) {
      const { stack, vpc } = stackWithVpc();
      expect(() => api(stack, vpc, { idleTimeout: Duration.seconds(seconds) })).toThrow(message);
    }
  });

  it('BrokerApi: a missing function of HTTP_FUNCTIONS', () => {
    const { stack, vpc } = stackWithVpc();
    expect(
      () =>
        new BrokerApi(stack, 'Api', {
          vpc,
          functions: { health: inlineFunction(stack, 'H') } as never,
        }),
    ).toThrow(/no function for "login"/);
  });

  it('BrokerApi: access logs without a region', () => {
    const stack = new Stack(new App(), 'NoRegion');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    expect(() => api(stack, vpc, { accessLogs: true })).toThrow(/needs a stack with a region/);
  });

  function gateway(props: Partial<ConstructorParameters<typeof GatewayService>[2]>) {
    const { stack, vpc } = stackWithVpc();
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc });
    return new GatewayService(stack, 'Gateway', {
      vpc,
      loadBalancer,
      gatewaySecret: new secretsmanager.Secret(stack, 'S'),
      brokerUrl: 'https://broker.example.org',
      ...props,
    });
  }

  it('GatewayService: more desired tasks than the maximum', () => {
    expect(() => gateway({ desiredCount: 3, maxCount: 2 })).toThrow(/maxCount \(2\)/);
  });

  it("GatewayService: a port range over the gateway's own ports", () => {
    expect(() => gateway({ portRange: { from: 9000, to: 10000 } })).toThrow(/own port 9443/);
  });

  it('Alarms: a load balancer without its health target group', () => {
    const { stack, vpc } = stackWithVpc();
    const queue = new sqs.Queue(stack, 'Q');
    expect(
      () =>
        new Alarms(stack, 'Alarms', {
          queue,
          deadLetterQueue: queue,
          loadBalancer: new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc }),
          metricsNamespace: 'Deskbroker/Test',
        }),
    ).toThrow(/both loadBalancer and healthTargetGroup/);
  });

  it('Schedules: a period EventBridge Scheduler cannot express', () => {
    const { stack } = stackWithVpc();
    const queue = new sqs.Queue(stack, 'Q');
    expect(
      () =>
        new Schedules(stack, 'S', {
          queue,
          siteId: 1,
          jobs: [{ job: { kind: 'refresh_pool' }, everySeconds: 30 }],
        }),
    ).toThrow(/needs whole minutes/);
  });

  it('Schedules: a payload the job union refuses', () => {
    const { stack } = stackWithVpc();
    const queue = new sqs.Queue(stack, 'Q');
    expect(() => new Schedules(stack, 'S', { queue, siteId: 0 })).toThrow(
      /heartbeat job is not a valid job message: job.siteId/,
    );
  });
});

describe('cdk-nag', () => {
  it('is active: a finding without an acknowledgement fails the synthesis', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag');
    new sqs.Queue(stack, 'Plain'); // no DLQ, no TLS-only policy: AwsSolutions-SQS3, SQS4
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });

  it('accepts an acknowledged finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag');
    const queue = new sqs.Queue(stack, 'Plain', { enforceSSL: true });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test: it is a DLQ' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
