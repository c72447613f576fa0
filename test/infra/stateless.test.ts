/**
 * The stateless stack with cdk.json's context (brokerCpus overridden to 3): functions and
 * their environment, the load balancer and its routes, the job event source, schedules,
 * the gateway service and the migration (alarms and the dashboard: observability.test.ts).
 * One synthesis for the file (with cdk-nag).
 */
import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.ts';
import { KEEPALIVE_MS, REDEEM_PATH } from '../../functions/core/gateways/html5-ticket.ts';
import { sqsMaxConcurrency } from '../../functions/core/jobs/limits.ts';
import { jobMessageSchema } from '../../functions/core/jobs/payload.ts';
import { PERIODIC_JOBS } from '../../functions/core/jobs/schedule.ts';
import { functionFor, HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import { HEALTH_CHECK_PATH } from '../../lib/constructs/broker-api.ts';
import { GATEWAY_PING_PATH } from '../../lib/constructs/gateway-service.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON; the assertions check their shape.
type Resource = { Properties: Record<string, any>; DependsOn?: string[] };

let s: Synthesized;
let t: Template;

beforeAll(() => {
  s = synthDeskbroker({ brokerCpus: 3 });
  t = s.statelessTemplate;
});
afterAll(() => s?.cleanup());

const resources = (type: string) => Object.entries(t.findResources(type)) as [string, Resource][];

/** The broker functions (not CDK's own), by the handler name in their description. */
function brokerFunctions(): Map<string, [string, Resource]> {
  const byName = new Map<string, [string, Resource]>();
  for (const [name, fn] of Object.entries({
    ...s.stateless.functions.http,
    jobs: s.stateless.functions.jobs,
    migrate: s.stateless.functions.migrate,
  })) {
    const id = s.stateless.getLogicalId(fn.node.defaultChild as never);
    byName.set(name, [id, t.toJSON().Resources[id] as Resource]);
  }
  return byName;
}

describe('functions', () => {
  it('has one function per handler: the HTTP ones, jobs and migrate', () => {
    const names = [...brokerFunctions().keys()].sort();
    expect(names).toEqual([...HTTP_FUNCTIONS.map((f) => f.name), 'jobs', 'migrate'].sort());
  });

  it('runs each on ARM64 and Node 22, bundled as ESM, in the private subnets', () => {
    for (const [name, [, fn]] of brokerFunctions()) {
      expect(fn.Properties, name).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        VpcConfig: { SubnetIds: expect.any(Array), SecurityGroupIds: expect.any(Array) },
      });
      expect(fn.Properties.VpcConfig.SubnetIds, name).toHaveLength(2);
      expect(JSON.stringify(fn.Properties.VpcConfig.SubnetIds), name).toContain('privateSubnet');
      expect(fn.Properties.LoggingConfig?.LogGroup, name).toBeDefined();
    }
  });

  it('sets every function the variables its configuration needs, through the bind helpers', () => {
    const common = [
      'SITE_ID',
      'BROKER_NAME',
      'BROKER_CPUS',
      'LOG_LEVEL',
      'SITE_DB_CLUSTER_ARN',
      'SITE_DB_SECRET_ARN',
      'SITE_DB_NAME',
      'STATE_TABLE',
      'JOB_QUEUE_URL',
    ];
    for (const [name, [, fn]] of brokerFunctions()) {
      const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(vars), name).toEqual(expect.arrayContaining(common));
      expect(vars.SITE_ID).toBe(String(s.config.siteId));
      expect(vars.BROKER_CPUS).toBe('3');
      expect('GATEWAY_SECRET_ARN' in vars, `${name} GATEWAY_SECRET_ARN`).toBe(
        name !== 'health' && name !== 'migrate',
      );
      expect('DESKBROKER_ADMIN_PASSWORD_ARN' in vars, `${name} admin password`).toBe(
        name === 'migrate',
      );
      // The secrets key only where a stored secret is sealed or opened.
      expect('SECRETS_KEY_ARN' in vars, `${name} SECRETS_KEY_ARN`).toBe(
        ['login', 'health', 'admin', 'migrate'].includes(name),
      );
      // Secret values never reach a function's configuration, only their ARNs.
      expect('GATEWAY_SECRET' in vars || 'DESKBROKER_ADMIN_PASSWORD' in vars, name).toBe(false);
      expect(JSON.stringify(vars)).not.toContain('{{resolve:secretsmanager:');
    }
  });

  it('sets only variables that the broker configuration accepts', () => {
    // Stand-ins for the deploy-time values (ARNs, URLs), then the broker's own validation.
    const sample: Record<string, string> = {
      SITE_DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:site',
      SITE_DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:site',
      JOB_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
      STATE_TABLE: 'state-table',
      GATEWAY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gateway',
      DESKBROKER_ADMIN_PASSWORD_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin',
      SECRETS_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/0000',
      CDN_ORIGIN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdn',
    };
    for (const [name, [, fn]] of brokerFunctions()) {
      const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
      const env = Object.fromEntries(
        Object.entries(vars)
          .filter(([k]) => k !== 'NODE_OPTIONS')
          .map(([k, v]) => [k, typeof v === 'string' ? v : sample[k]]),
      );
      expect(
        Object.values(env).every((v) => typeof v === 'string'),
        name,
      ).toBe(true);
      const config = loadConfig(env);
      expect(config.siteDb.kind, name).toBe('data-api');
      if ('SECRETS_KEY_ARN' in env) expect(config.secretsKey.kind, name).toBe('kms');
      expect(config.jobQueueUrl, name).toBeDefined();
    }
  });

  it('grants each function the Data API, the state table and the queue', () => {
    const [loginId] = brokerFunctions().get('login')!;
    const role = (t.toJSON().Resources[loginId] as Resource).Properties.Role['Fn::GetAtt'][0];
    const policy = resources('AWS::IAM::Policy').find(([, p]) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    )!;
    const actions = JSON.stringify(policy[1].Properties.PolicyDocument);
    for (const action of [
      'rds-data:ExecuteStatement',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'sqs:SendMessage',
      'secretsmanager:GetSecretValue',
    ]) {
      expect(actions, action).toContain(action);
    }
  });
});

describe('secrets key grants', () => {
  /** The KMS actions a function's role may take on the secrets key. */
  function kmsActions(name: string): string[] {
    const [fnId] = brokerFunctions().get(name)!;
    const role = (t.toJSON().Resources[fnId] as Resource).Properties.Role['Fn::GetAtt'][0];
    const statements = resources('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    return statements
      .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]))
      .filter((a) => a.startsWith('kms:'))
      .sort();
  }

  it('lets the sealing functions make data keys, the others only unwrap them, the rest nothing', () => {
    expect(kmsActions('admin')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kmsActions('migrate')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kmsActions('login')).toEqual(['kms:Decrypt']);
    expect(kmsActions('health')).toEqual(['kms:Decrypt']);
    for (const name of ['offers', 'agent', 'gateway-api', 'jobs']) {
      expect(kmsActions(name), name).toEqual([]);
    }
  });
});

describe('load balancer', () => {
  it('routes each path of HTTP_FUNCTIONS to its function', () => {
    const rules = resources('AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(rules).toHaveLength(HTTP_FUNCTIONS.length);
    const groups = Object.fromEntries(resources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    const fns = brokerFunctions();
    for (const route of HTTP_FUNCTIONS) {
      const rule = rules.find(([, r]) =>
        JSON.stringify(r.Properties.Conditions).includes(JSON.stringify([...route.paths])),
      );
      expect(rule, route.name).toBeDefined();
      const groupId = rule![1].Properties.Actions[0].TargetGroupArn.Ref as string;
      const target = groups[groupId]!.Properties.Targets[0].Id['Fn::GetAtt'][0];
      expect(target, route.name).toBe(fns.get(route.name)![0]);
    }
  });

  it('puts the Lambda target groups in multi-value headers mode, never sticky', () => {
    const lambdaGroups = resources('AWS::ElasticLoadBalancingV2::TargetGroup').filter(
      ([, g]) => g.Properties.TargetType === 'lambda',
    );
    expect(lambdaGroups).toHaveLength(HTTP_FUNCTIONS.length);
    for (const [id, g] of lambdaGroups) {
      const attrs = Object.fromEntries(
        (g.Properties.TargetGroupAttributes as { Key: string; Value: string }[]).map((a) => [
          a.Key,
          a.Value,
        ]),
      );
      expect(attrs['lambda.multi_value_headers.enabled'], id).toBe('true');
      expect(
        Object.keys(attrs).filter((k) => k.startsWith('stickiness')),
        id,
      ).toEqual([]);
    }
  });

  it('health-checks only the health function, on is_alive', () => {
    const groups = resources('AWS::ElasticLoadBalancingV2::TargetGroup').filter(
      ([, g]) => g.Properties.TargetType === 'lambda',
    );
    const checked = groups.filter(([, g]) => g.Properties.HealthCheckEnabled === true);
    expect(checked).toHaveLength(1);
    expect(checked[0]![1].Properties).toMatchObject({
      HealthCheckPath: HEALTH_CHECK_PATH,
      Matcher: { HttpCode: '200' },
    });
    expect(HEALTH_CHECK_PATH).toBe('/index.pl?action=is_alive');
    const healthFn = brokerFunctions().get('health')![0];
    expect(checked[0]![1].Properties.Targets[0].Id['Fn::GetAtt'][0]).toBe(healthFn);
  });

  it('answers unknown paths with a JSON 404 and listens on plain HTTP without a certificate', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        Match.objectLike({
          Type: 'fixed-response',
          FixedResponseConfig: Match.objectLike({ StatusCode: '404' }),
        }),
      ],
    });
  });

  it('keeps access logs in an encrypted bucket when the region is known', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
  });
});

describe('jobs', () => {
  it('feeds the job function from the queue with partial batch failures and the job-limit concurrency', () => {
    const [, esm] = resources('AWS::Lambda::EventSourceMapping')[0]!;
    expect(resources('AWS::Lambda::EventSourceMapping')).toHaveLength(1);
    expect(s.config.brokerCpus).toBe(3);
    expect(esm.Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: sqsMaxConcurrency(s.config.brokerCpus) },
      FunctionName: { Ref: brokerFunctions().get('jobs')![0] },
    });
    expect(esm.Properties.ScalingConfig.MaximumConcurrency).toBe(16);
    expect(JSON.stringify(esm.Properties.EventSourceArn)).toContain('JobQueue');
  });

  it('schedules every periodic job and the heartbeat as valid job messages', () => {
    const schedules = resources('AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(PERIODIC_JOBS.length + 1);
    const byKind = new Map<string, Resource>();
    for (const [, sch] of schedules) {
      const input = sch.Properties.Target.Input as string;
      // What EventBridge Scheduler sends, once it fills in the firing time.
      const message = jobMessageSchema.parse(
        JSON.parse(input.replace('<aws.scheduler.scheduled-time>', '2026-01-01T00:00:00Z')),
      );
      expect(message.idempotencyKey).toContain('2026-01-01T00:00:00Z');
      expect(JSON.stringify(sch.Properties.Target.Arn)).toContain('JobQueue');
      byKind.set(message.job.kind, sch);
    }
    for (const { job, everySeconds } of PERIODIC_JOBS) {
      expect(byKind.get(job.kind)?.Properties.ScheduleExpression, job.kind).toBe(
        ScheduleExpression.rate(Duration.seconds(everySeconds)).expressionString,
      );
    }
    const heartbeat = JSON.parse(byKind.get('heartbeat')!.Properties.Target.Input);
    expect(heartbeat.job).toEqual({ kind: 'heartbeat', siteId: s.config.siteId });
  });
});

describe('gateway service', () => {
  it('runs the gateway image on Fargate with public IPs, the port range and the shared secret', () => {
    const [, task] = resources('AWS::ECS::TaskDefinition')[0]!;
    const container = task.Properties.ContainerDefinitions[0];
    expect(container.PortMappings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ContainerPort: 8443 }),
        expect.objectContaining({ ContainerPort: 9443 }),
        expect.objectContaining({ ContainerPortRange: '20001-23000' }),
      ]),
    );
    expect(container.Secrets).toEqual([{ Name: 'GATEWAY_SECRET', ValueFrom: expect.anything() }]);
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env.GATEWAY_PORT_RANGE).toBe('20001-23000');
    expect(JSON.stringify(env.BROKER_URL)).toContain('DNSName');
    expect(JSON.stringify(t.toJSON().Resources)).toContain('"nofile"');
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }),
      },
    });
  });

  it('serves its HTTP face from an ip target group with cookie stickiness', () => {
    const [, group] = resources('AWS::ElasticLoadBalancingV2::TargetGroup').find(
      ([, g]) => g.Properties.TargetType === 'ip',
    )!;
    expect(group.Properties).toMatchObject({
      Port: 8443,
      HealthCheckPath: GATEWAY_PING_PATH,
      TargetGroupAttributes: expect.arrayContaining([
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
      ]),
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 8443 });
  });

  it('admits the forward ports from clients and the control port only from the broker functions', () => {
    const ingress = JSON.stringify(t.toJSON().Resources);
    expect(ingress).toContain('"FromPort":20001,"IpProtocol":"tcp","ToPort":23000');
    const control = resources('AWS::EC2::SecurityGroupIngress').find(
      ([, r]) => r.Properties.FromPort === 9443,
    );
    expect(control).toBeDefined();
    expect(JSON.stringify(control![1].Properties.SourceSecurityGroupId)).toContain(
      'FunctionsSecurityGroup',
    );
  });

  it('takes HTML5 WebSockets: idle timeout longer than the gateway keep-alive, redeem routed to the gateway API, its web URL an output', () => {
    const [, alb] = resources('AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    const idle = (alb.Properties.LoadBalancerAttributes as { Key: string; Value: string }[]).find(
      (a) => a.Key === 'idle_timeout.timeout_seconds',
    );
    expect(Number(idle?.Value)).toBe(120);
    expect(Number(idle?.Value) * 1000).toBeGreaterThanOrEqual(4 * KEEPALIVE_MS);
    expect(functionFor(REDEEM_PATH)?.name).toBe('gateway-api');
    expect(Object.keys(t.toJSON().Outputs)).toContain('GatewayWebUrl');
    expect(JSON.stringify(t.toJSON().Outputs.GatewayWebUrl.Value)).toContain(':8443');
    // Any gateway task redeems any ticket: the task has BROKER_URL and the shared secret.
    const [, task] = resources('AWS::ECS::TaskDefinition')[0]!;
    const container = task.Properties.ContainerDefinitions[0];
    expect(container.Environment.map((e: { Name: string }) => e.Name)).toContain('BROKER_URL');
    expect(container.Secrets.map((e: { Name: string }) => e.Name)).toContain('GATEWAY_SECRET');
  });

  it('scales on CPU and on active sessions (forwards plus HTML5 connections)', () => {
    const policies = resources('AWS::ApplicationAutoScaling::ScalingPolicy').map(
      ([, p]) => p.Properties.TargetTrackingScalingPolicyConfiguration,
    );
    expect(policies).toHaveLength(2);
    expect(
      policies.some(
        (p) =>
          p.PredefinedMetricSpecification?.PredefinedMetricType ===
          'ECSServiceAverageCPUUtilization',
      ),
    ).toBe(true);
    expect(
      policies.some((p) => p.CustomizedMetricSpecification?.MetricName === 'GatewayActiveSessions'),
    ).toBe(true);
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [Match.objectLike({ MetricValue: '$.activeSessions' })],
    });
  });
});

describe('migration', () => {
  it('runs the migrate function as a custom resource before the other functions change', () => {
    const [crId, cr] = resources('Custom::DeskbrokerSchema')[0]!;
    expect(cr.Properties.BrokerVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(cr.Properties.Migrations).toMatch(/^[0-9a-f]{16}$/);
    for (const [name, [, fn]] of brokerFunctions()) {
      if (name === 'migrate') continue;
      expect(fn.DependsOn ?? [], name).toContain(crId);
    }
    const provider = JSON.stringify(t.toJSON().Resources);
    expect(provider).toContain(brokerFunctions().get('migrate')![0]);
  });
});
