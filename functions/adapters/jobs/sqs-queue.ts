/**
 * The job queue on Amazon SQS (`JOB_QUEUE_URL`): enqueue records the job's `work_queue` row
 * (for the job-queue view and idempotency) and sends the message; a local broker polls the
 * queue through {@link SqsJobSource}, the job Lambda gets batches from the event source.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../../core/clock.ts';
import type { JobPayload } from '../../core/jobs/payload.ts';
import type { EnqueueOptions, JobQueue } from '../../core/jobs/ports.ts';
import type { JobSource, RunnableJob } from './job-source.ts';
import {
  JobFailedError,
  processSqsDelivery,
  type SqsDeliveryDeps,
  sendJobMessage,
} from './sqs-delivery.ts';
import type { SqlJobLedger } from './work-queue-ledger.ts';

/** One SQS client per process; a local endpoint (fauxqs, LocalStack) takes any credentials. */
export function createSqsClient(options: { region: string; endpoint?: string }): SQSClient {
  return new SQSClient({
    region: options.region,
    endpoint: options.endpoint,
    ...(options.endpoint
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
  });
}

export class SqsJobQueue implements JobQueue {
  readonly transport = 'sqs' as const;
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #ledger: SqlJobLedger;
  readonly #clock: Clock;

  constructor(options: {
    client: SQSClient;
    queueUrl: string;
    ledger: SqlJobLedger;
    clock: Clock;
  }) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#ledger = options.ledger;
    this.#clock = options.clock;
  }

  /**
   * Records the job and sends its message (delayed up to 15 minutes; longer delays are
   * re-sent by the consumer). `siteId` is not honoured: any consumer may take the message.
   * @throws when the message cannot be sent (the row is then forgotten).
   */
  async enqueue(
    job: JobPayload,
    options: EnqueueOptions = {},
  ): Promise<{ enqueued: boolean; idempotencyKey: string }> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const recorded = await this.#ledger.record(job, idempotencyKey, { runAt: options.runAt });
    if (!recorded) return { enqueued: false, idempotencyKey };
    const delayMs = (options.runAt ?? 0) - this.#clock.now();
    try {
      await this.#client.send(
        sendJobMessage(
          this.#queueUrl,
          { idempotencyKey, job, ...(delayMs > 0 ? { notBefore: options.runAt } : {}) },
          delayMs / 1000,
        ),
      );
    } catch (e: unknown) {
      await this.#ledger.forget(idempotencyKey).catch(() => {});
      throw e;
    }
    return { enqueued: true, idempotencyKey };
  }
}

/** A local broker's source of jobs on the SQS transport: short polls of the queue. */
export class SqsJobSource implements JobSource {
  readonly #deps: SqsDeliveryDeps;
  readonly #waitSeconds: number;

  constructor(deps: SqsDeliveryDeps, options: { waitSeconds?: number } = {}) {
    this.#deps = deps;
    this.#waitSeconds = options.waitSeconds ?? 1;
  }

  async take(max: number): Promise<RunnableJob[]> {
    if (max < 1) return [];
    const { client, queueUrl } = this.#deps;
    const received = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: this.#waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return (received.Messages ?? []).map((m) => {
      const delivery = {
        messageId: m.MessageId ?? '',
        body: m.Body ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      };
      return {
        kind: 'sqs',
        key: delivery.messageId,
        run: async () => {
          // A failed job keeps its message: SQS redelivers it after the backoff.
          const outcome = await processSqsDelivery(this.#deps, delivery).catch((e: unknown) => {
            if (!(e instanceof JobFailedError)) {
              this.#deps.logger.warn('job message kept for a retry', { error: String(e) });
            }
            return null;
          });
          if (outcome === null) return undefined;
          await client.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: delivery.receiptHandle }),
          );
          return outcome;
        },
      };
    });
  }
}
