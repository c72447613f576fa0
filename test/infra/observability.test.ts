/**
 * What tells an operator how the site is doing, in the synthesized templates: the alarm
 * topic (its own KMS key, TLS only, the services allowed to publish, the email subscription
 * from the `alarmEmail` context value), every alarm's metric, threshold and actions, the
 * Aurora failover notifications, the dashboard, the functions' metrics settings, the
 * heartbeat period the functions learn from the schedule, and what the gateway task needs
 * to register itself (nothing beyond its secret and the broker's URL). One synthesis.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, METRICS_SERVICE } from '../../functions/core/metrics/catalogue.ts';
import { Alarms } from '../../lib/constructs/alarms.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON; the assertions check their shape.
type Json = any;

let s: Synthesized;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  s = synthDeskbroker({ alarmEmail: 'ops@example.org' });
  resources = s.statelessTemplate.toJSON().Resources;
});
afterAll(() => s?.cleanup());

const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  s.stateless.getLogicalId(construct.node.defaultChild as never);
const ofType = (type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type) as [string, { Properties: Json }][];
const alarmProps = (alarm: { node: { defaultChild?: unknown } } | undefined) => {
  expect(alarm).toBeDefined();
  return resources[idOf(alarm!)]!.Properties;
};
const NAMESPACE = 'Deskbroker/Deskbroker-Stateless';

describe('the alarm topic', () => {
  it('is encrypted with its own rotating key and refuses plain HTTP', () => {
    const topic = alarmProps(s.stateless.alarms.topic);
    const keyId = idOf(s.stateless.alarms.topicKey);
    expect(topic.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
    const [, policy] = ofType('AWS::SNS::TopicPolicy')[0]!;
    const text = JSON.stringify(policy.Properties.PolicyDocument);
    expect(text).toContain('"aws:SecureTransport":"false"');
  });

  it('lets CloudWatch alarms and RDS events publish, for this account only', () => {
    const [, policy] = ofType('AWS::SNS::TopicPolicy')[0]!;
    const key = resources[idOf(s.stateless.alarms.topicKey)]!.Properties.KeyPolicy;
    for (const service of ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com']) {
      const has = (st: Json) => [st.Principal?.Service].flat().includes(service);
      const publish = policy.Properties.PolicyDocument.Statement.find(has);
      expect(publish, service).toMatchObject({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      });
      const decrypt = key.Statement.find(has);
      expect(decrypt.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    }
  });

  it('emails the address of the alarmEmail context value', () => {
    const subscriptions = ofType('AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subscriptions).toEqual([
      {
        Protocol: 'email',
        Endpoint: 'ops@example.org',
        TopicArn: { Ref: idOf(s.stateless.alarms.topic) },
      },
    ]);
  });

  it('has no subscription without an address', () => {
    const stack = new Stack(new App(), 'NoEmail');
    const queue = new sqs.Queue(stack, 'Q');
    new Alarms(stack, 'Alarms', { queue, deadLetterQueue: queue, metricsNamespace: 'X' });
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('alarms', () => {
  const topicRef = () => ({ Ref: idOf(s.stateless.alarms.topic) });

  it('are the seven the operator must hear about, each notifying the topic when it fires and when it clears', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(7);
    expect(s.stateless.alarms.all).toHaveLength(7);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions, id).toEqual([topicRef()]);
      expect(alarm.Properties.AlarmDescription, id).toMatch(/^deskbroker: /);
    }
  });

  it('DLQ not empty: any visible dead letter', () => {
    const a = alarmProps(s.stateless.alarms.deadLetters);
    expect(a).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
    expect(JSON.stringify(a.Dimensions)).toContain('DeadLetterQueue');
  });

  it('oldest job age: over 5 minutes for 3 minutes', () => {
    const a = alarmProps(s.stateless.alarms.jobAge);
    expect(a).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
    expect(JSON.stringify(a.Dimensions)).not.toContain('DeadLetterQueue');
  });

  it('unhealthy is_alive targets: the health target group, two minutes running', () => {
    const a = alarmProps(s.stateless.alarms.isAliveFailures);
    expect(a).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
    });
    expect(JSON.stringify(a.Dimensions)).toContain('ApiHealthTarget');
  });

  it('5xx rate: load balancer and target 5xx over requests, above 5 %', () => {
    const a = alarmProps(s.stateless.alarms.errorRate);
    expect(a).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
    });
    const metrics = JSON.stringify(a.Metrics);
    for (const m of ['RequestCount', 'HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count']) {
      expect(metrics).toContain(m);
    }
    expect(metrics).toContain('100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests');
  });

  it('leased mode entered: any request served from leases, from the broker’s own metric', () => {
    const a = alarmProps(s.stateless.alarms.leasedMode);
    expect(a).toMatchObject({
      Namespace: NAMESPACE,
      MetricName: METRICS.leasedRequests.cloudwatch,
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('Aurora reader lag: over 1 s for 3 minutes, on the site database cluster', () => {
    const a = alarmProps(s.stateless.alarms.replicaLag);
    expect(a).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'AuroraReplicaLagMaximum',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
    expect(a.Dimensions[0].Name).toBe('DBClusterIdentifier');
    expect(JSON.stringify(a.Dimensions)).toContain('SiteDatabase');
  });

  it('Aurora failover: the cluster’s failover and failure events go to the topic', () => {
    const [, sub] = ofType('AWS::RDS::EventSubscription')[0]!;
    expect(sub.Properties).toMatchObject({
      SourceType: 'db-cluster',
      EventCategories: ['failover', 'failure'],
      SnsTopicArn: { Ref: idOf(s.stateless.alarms.topic) },
      Enabled: true,
    });
    expect(JSON.stringify(sub.Properties.SourceIds)).toContain('SiteDatabase');
  });

  it('gateway service with no healthy task: fewer than one healthy target, no data counts', () => {
    const a = alarmProps(s.stateless.alarms.noHealthyGateway);
    expect(a).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HealthyHostCount',
      Statistic: 'Minimum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'breaching',
    });
    expect(JSON.stringify(a.Dimensions)).toContain('GatewayHttpTarget');
  });
});

describe('metrics and the dashboard', () => {
  const functions = () =>
    ofType('AWS::Lambda::Function').filter(([, f]) =>
      String(f.Properties.Description ?? '').startsWith('deskbroker: '),
    );

  it('has every broker function write EMF to the deployment’s namespace', () => {
    expect(functions()).toHaveLength(8);
    for (const [id, fn] of functions()) {
      expect(fn.Properties.Environment.Variables, id).toMatchObject({
        METRICS: 'emf',
        METRICS_NAMESPACE: NAMESPACE,
      });
    }
  });

  it('shows the broker’s metrics, the queue, the load balancer, Aurora, the gateways and the alarms', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain(NAMESPACE);
    // Every metric a Lambda emits (JobLimitWaits comes from local brokers' job runners only).
    for (const spec of Object.values(METRICS).filter((m) => m !== METRICS.jobLimitWaits)) {
      expect(body, spec.cloudwatch).toContain(spec.cloudwatch);
    }
    for (const m of [
      'ApproximateAgeOfOldestMessage',
      'RequestCount',
      'UnHealthyHostCount',
      'AuroraReplicaLagMaximum',
      'GatewayActiveSessions',
    ]) {
      expect(body, m).toContain(m);
    }
    for (const alarm of s.stateless.alarms.all) {
      expect(body).toContain(idOf(alarm));
    }
  });
});

describe('heartbeat', () => {
  it('tells every function the heartbeat schedule’s own period', () => {
    const heartbeat = ofType('AWS::Scheduler::Schedule').find(([, sch]) =>
      String(sch.Properties.Target.Input).includes('"kind":"heartbeat"'),
    )!;
    const seconds = s.stateless.schedules.heartbeatSeconds;
    expect(heartbeat[1].Properties.ScheduleExpression).toBe(
      ScheduleExpression.rate(Duration.seconds(seconds)).expressionString,
    );
    for (const [id, fn] of ofType('AWS::Lambda::Function').filter(([, f]) =>
      String(f.Properties.Description ?? '').startsWith('deskbroker: '),
    )) {
      expect(fn.Properties.Environment.Variables.HEARTBEAT_SECONDS, id).toBe(String(seconds));
    }
  });
});

describe('gateway registration on AWS', () => {
  it('registers through the load balancer with the secret it has: its task role holds no permission', () => {
    const [, task] = ofType('AWS::ECS::TaskDefinition')[0]!;
    const env = Object.fromEntries(
      (
        task.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[]
      ).map((e) => [e.Name, e.Value]),
    );
    expect(JSON.stringify(env.BROKER_URL)).toContain('DNSName');
    expect(env.GATEWAY_REGISTER).toBeUndefined();
    const taskRole = task.Properties.TaskRoleArn['Fn::GetAtt'][0];
    const policies = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.Roles).includes(taskRole),
    );
    expect(policies).toEqual([]);
    expect(resources[taskRole]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('reaches the gateways’ control port only from the broker functions', () => {
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => r.Properties.FromPort === 9443,
    );
    expect(ingress).toHaveLength(1);
    expect(JSON.stringify(ingress[0]![1].Properties.SourceSecurityGroupId)).toContain(
      'FunctionsSecurityGroup',
    );
  });
});
