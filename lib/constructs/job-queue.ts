/**
 * The job queue (SQS) and its dead-letter queue: a job received MAX_RECEIVES times goes to
 * the DLQ. The visibility timeout is at least six times the job function's timeout, as Lambda
 * asks for SQS event sources, so a message being processed (or waiting in the poller's batch)
 * is not delivered twice. Both queues are encrypted (SSE-SQS) and refuse plain HTTP.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVES } from '../../functions/core/jobs/limits.ts';

/** Lambda's guidance for SQS event sources: visibility ≥ 6 × the function timeout. */
export const VISIBILITY_FACTOR = 6;

export interface JobQueueProps {
  /**
   * Timeout of the job function this queue feeds. The job function construct reads it back
   * from {@link JobQueue.jobFunctionTimeout}, so the two cannot drift apart.
   * @default Duration.minutes(2)
   */
  readonly jobFunctionTimeout?: Duration;
  /**
   * @default jobFunctionTimeout × 6
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message goes to the dead-letter queue.
   * @default MAX_RECEIVES (5, functions/core/jobs/limits.ts)
   */
  readonly maxReceiveCount?: number;
  /** @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** @default Duration.days(14) */
  readonly deadLetterRetentionPeriod?: Duration;
}

export interface JobConsumerOptions {
  /** The SQS event source's maximum concurrency (2..1000). */
  readonly maxConcurrency: number;
  /** @default 10 */
  readonly batchSize?: number;
}

/** The broker's job queue. */
export class JobQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly jobFunctionTimeout: Duration;

  constructor(scope: Construct, id: string, props: JobQueueProps = {}) {
    super(scope, id);
    this.jobFunctionTimeout = props.jobFunctionTimeout ?? Duration.minutes(2);
    const minimum = this.jobFunctionTimeout.toSeconds() * VISIBILITY_FACTOR;
    const visibility = props.visibilityTimeout ?? Duration.seconds(minimum);
    if (visibility.toSeconds() < minimum) {
      throw new Error(
        `JobQueue: visibilityTimeout (${visibility.toSeconds()} s) must be at least ${VISIBILITY_FACTOR} × jobFunctionTimeout (${minimum} s)`,
      );
    }
    if (visibility.toSeconds() > 43_200) {
      throw new Error('JobQueue: visibilityTimeout is at most 12 hours (SQS limit)');
    }
    const maxReceiveCount = props.maxReceiveCount ?? MAX_RECEIVES;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error('JobQueue: maxReceiveCount must be an integer from 1 to 1000');
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetentionPeriod ?? Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: visibility,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }

  /**
   * A function that enqueues jobs: sets JOB_QUEUE_URL and grants SendMessage. Every broker
   * function is one (logout, release and agent events enqueue delayed jobs).
   */
  public bindProducer(fn: lambda.Function): void {
    fn.addEnvironment('JOB_QUEUE_URL', this.queue.queueUrl);
    this.queue.grantSendMessages(fn);
  }

  /**
   * The job function: a producer (retries are re-sent with a delay), plus the SQS event
   * source with partial batch failures and the given maximum concurrency.
   * @throws {Error} when the function's timeout is longer than {@link jobFunctionTimeout}.
   */
  public bindConsumer(fn: lambda.Function, options: JobConsumerOptions): SqsEventSource {
    const timeout = fn.timeout?.toSeconds() ?? 3;
    if (timeout > this.jobFunctionTimeout.toSeconds()) {
      throw new Error(
        `JobQueue: the job function's timeout (${timeout} s) is longer than jobFunctionTimeout (${this.jobFunctionTimeout.toSeconds()} s) the queue's visibility was sized for`,
      );
    }
    this.bindProducer(fn);
    const source = new SqsEventSource(this.queue, {
      batchSize: options.batchSize ?? 10,
      reportBatchItemFailures: true,
      maxConcurrency: options.maxConcurrency,
    });
    fn.addEventSource(source);
    return source;
  }
}
