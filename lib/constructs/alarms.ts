/**
 * Alarms that reach a person: every alarm notifies one SNS topic (encrypted with its own KMS
 * key, TLS only) when it fires and when it clears, and the topic emails `email` when given.
 * What an operator must hear about: jobs given up (the DLQ is not empty), jobs waiting too
 * long (age of the oldest message), the broker failing its health query (`is_alive` health
 * checks failing on the health target group), a rate of 5xx answers, leased mode (the broker
 * serving from connection leases because the site database does not answer), Aurora's reader
 * lagging and Aurora failing over (an RDS event subscription to the same topic: there is no
 * failover metric), and a gateway service without a healthy task.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, METRICS_SERVICE } from '../../functions/core/metrics/catalogue.ts';

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The load balancer and the health target group; without them, no is_alive or 5xx alarm. */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  readonly healthTargetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * The gateways' HTTP target group; with it, an alarm when no gateway task is healthy.
   * @default - no gateway alarm (no gateway service, or no task wanted)
   */
  readonly gatewayTargetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * The Aurora site database; with it, the reader-lag alarm and the failover notifications.
   * @default - no database alarms (LocalStack mode: no Aurora)
   */
  readonly siteDatabase?: rds.IDatabaseCluster;
  /** The CloudWatch namespace of the broker's own metrics (METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /**
   * Who gets an email for every alarm (the subscription must be confirmed from the email).
   * @default - no subscription: subscribe to {@link Alarms.topic} another way
   */
  readonly email?: string;
  /**
   * Age of the oldest job above which the job alarm fires.
   * @default Duration.minutes(5)
   */
  readonly maxJobAge?: Duration;
  /**
   * Share of requests answered with a 5xx (load balancer or target) that fires the alarm.
   * @default 5 (percent)
   */
  readonly max5xxPercent?: number;
  /**
   * Aurora reader lag above which the lag alarm fires, for three minutes in a row.
   * @default Duration.seconds(1)
   */
  readonly maxReplicaLag?: Duration;
}

/** The broker's alarms and the topic they notify. */
export class Alarms extends Construct {
  /** Every alarm and notification goes here. */
  public readonly topic: sns.Topic;
  public readonly topicKey: kms.Key;
  public readonly deadLetters: cloudwatch.Alarm;
  public readonly jobAge: cloudwatch.Alarm;
  public readonly leasedMode: cloudwatch.Alarm;
  public readonly isAliveFailures?: cloudwatch.Alarm;
  public readonly errorRate?: cloudwatch.Alarm;
  public readonly replicaLag?: cloudwatch.Alarm;
  public readonly noHealthyGateway?: cloudwatch.Alarm;
  /** Aurora failover events (category `failover` and `failure`) to the topic. */
  public readonly failoverEvents?: rds.CfnEventSubscription;
  /** Every alarm above. */
  public readonly all: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    if (Boolean(props.loadBalancer) !== Boolean(props.healthTargetGroup)) {
      throw new Error('Alarms: give both loadBalancer and healthTargetGroup, or neither');
    }
    const maxPercent = props.max5xxPercent ?? 5;
    if (!(maxPercent > 0 && maxPercent <= 100)) {
      throw new Error('Alarms: max5xxPercent must be in (0, 100]');
    }
    const maxAge = props.maxJobAge ?? Duration.minutes(5);
    const maxLag = props.maxReplicaLag ?? Duration.seconds(1);

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'deskbroker: encrypts the alarm topic',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'deskbroker alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // CloudWatch alarms and RDS event notifications publish as services: the topic policy and
    // the key must let them, for this account only.
    for (const service of ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com']) {
      const principal = new iam.ServicePrincipal(service);
      const thisAccount = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [principal],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: thisAccount,
        }),
      );
      this.topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [principal],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: thisAccount,
        }),
      );
    }
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    this.deadLetters = new cloudwatch.Alarm(this, 'DeadLetters', {
      alarmDescription:
        'deskbroker: jobs were given up after repeated failures (the DLQ is not empty)',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.jobAge = new cloudwatch.Alarm(this, 'JobAge', {
      alarmDescription: `deskbroker: the oldest waiting job is older than ${maxAge.toSeconds()} s`,
      metric: props.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: maxAge.toSeconds(),
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.leasedMode = new cloudwatch.Alarm(this, 'LeasedMode', {
      alarmDescription:
        'deskbroker: leased mode: requests are served from connection leases because the site database does not answer',
      metric: new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName: METRICS.leasedRequests.cloudwatch,
        dimensionsMap: { service: METRICS_SERVICE },
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const all = [this.deadLetters, this.jobAge, this.leasedMode];

    if (props.loadBalancer && props.healthTargetGroup) {
      this.isAliveFailures = new cloudwatch.Alarm(this, 'IsAliveFailures', {
        alarmDescription:
          'deskbroker: is_alive fails (site database down, an authentication server unreachable, or load over the limit)',
        metric: props.healthTargetGroup.metrics.unhealthyHostCount({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      const period = Duration.minutes(5);
      const lb = props.loadBalancer.metrics;
      this.errorRate = new cloudwatch.Alarm(this, 'ErrorRate', {
        alarmDescription: `deskbroker: more than ${maxPercent} % of requests answered with a 5xx`,
        metric: new cloudwatch.MathExpression({
          expression:
            'IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)',
          usingMetrics: {
            requests: lb.requestCount({ period, statistic: 'Sum' }),
            elb5xx: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' }),
            target5xx: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
              period,
              statistic: 'Sum',
            }),
          },
          period,
          label: '5xx share (%)',
        }),
        threshold: maxPercent,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      all.push(this.isAliveFailures, this.errorRate);
    }

    if (props.gatewayTargetGroup) {
      this.noHealthyGateway = new cloudwatch.Alarm(this, 'NoHealthyGateway', {
        alarmDescription:
          'deskbroker: no gateway task is healthy (nothing answers /app/system/ping): gateway connections and logins through gateways fail',
        metric: props.gatewayTargetGroup.metrics.healthyHostCount({
          period: Duration.minutes(1),
          statistic: 'Minimum',
        }),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data points means no registered target at all: as bad as none healthy.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      all.push(this.noHealthyGateway);
    }

    if (props.siteDatabase) {
      this.replicaLag = new cloudwatch.Alarm(this, 'ReplicaLag', {
        alarmDescription: `deskbroker: Aurora's reader lags the writer by more than ${maxLag.toMilliseconds()} ms (the failover target is behind)`,
        metric: props.siteDatabase.metric('AuroraReplicaLagMaximum', {
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: maxLag.toMilliseconds(),
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      all.push(this.replicaLag);
      this.failoverEvents = new rds.CfnEventSubscription(this, 'FailoverEvents', {
        snsTopicArn: this.topic.topicArn,
        sourceType: 'db-cluster',
        sourceIds: [props.siteDatabase.clusterIdentifier],
        eventCategories: ['failover', 'failure'],
        enabled: true,
      });
    }

    const action = new SnsAction(this.topic);
    for (const alarm of all) {
      alarm.addAlarmAction(action);
      // And when it clears, so nobody keeps chasing a problem that is gone.
      alarm.addOkAction(action);
    }
    this.all = all;
  }
}
