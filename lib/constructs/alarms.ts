/**
 * CloudWatch alarms for the things an operator must hear about: jobs given up (the DLQ is
 * not empty), jobs waiting too long (age of the oldest message), the broker failing its
 * health query (`is_alive` health checks failing on the health target group), and a rate of
 * 5xx answers. Without actions here: add them to {@link Alarms.all} (an SNS topic, a pager).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The load balancer and the health target group; without them, only the queue alarms. */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  readonly healthTargetGroup?: elbv2.IApplicationTargetGroup;
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
}

/** The broker's alarms. */
export class Alarms extends Construct {
  public readonly deadLetters: cloudwatch.Alarm;
  public readonly jobAge: cloudwatch.Alarm;
  public readonly isAliveFailures?: cloudwatch.Alarm;
  public readonly errorRate?: cloudwatch.Alarm;
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
    const all = [this.deadLetters, this.jobAge];

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
    this.all = all;
  }
}
