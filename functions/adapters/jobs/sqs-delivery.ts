/**
 * One SQS message, processed the same way by the job Lambda (through Powertools' batch
 * processor) and by a local broker polling the queue. The ledger makes a second delivery a
 * no-op; a failure keeps the message and sets its visibility to the backoff delay, so SQS
 * delivers it again then, and after {@link MAX_RECEIVES} receives moves it to the DLQ.
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEFAULT_RETRY, MAX_RECEIVES, retryDelaySeconds } from '../../core/jobs/limits.ts';
import { type JobMessage, parseJobMessage } from '../../core/jobs/payload.ts';
import { type JobOutcome, type RunnerDeps, runDeliveredJob } from '../../core/jobs/runner.ts';

/** Longest DelaySeconds SQS accepts. */
export const MAX_SQS_DELAY_SECONDS = 900;
/** Longest visibility timeout SQS accepts (12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;

export interface SqsDeliveryDeps extends RunnerDeps {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

/** The fields of an SQS message that processing needs (Lambda record or ReceiveMessage). */
export interface SqsDelivery {
  readonly messageId: string;
  readonly body: string;
  readonly receiptHandle: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
}

/** Thrown to keep a message on the queue: its job failed and will be retried (or DLQ'd). */
export class JobFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailedError';
  }
}

/** The SendMessage input of a job message. */
export function sendJobMessage(queueUrl: string, message: JobMessage, delaySeconds = 0) {
  return new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify(message),
    DelaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
  });
}

async function setVisibility(deps: SqsDeliveryDeps, delivery: SqsDelivery, seconds: number) {
  await deps.client
    .send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.queueUrl,
        ReceiptHandle: delivery.receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds))),
      }),
    )
    .catch((e: unknown) => {
      // The queue's own visibility timeout then applies: a retry comes anyway.
      deps.logger.warn('could not set the message visibility', { error: String(e) });
    });
}

/**
 * Processes one message. Resolves when it may be deleted (done, duplicate, or re-sent
 * for later); rejects with {@link JobFailedError} (or the parse error) to keep it.
 */
export async function processSqsDelivery(
  deps: SqsDeliveryDeps,
  delivery: SqsDelivery,
): Promise<JobOutcome | undefined> {
  let message: JobMessage;
  try {
    message = parseJobMessage(delivery.body, `sqs:${delivery.messageId}`);
  } catch (e: unknown) {
    deps.logger.error('poison message: not a job', {
      messageId: delivery.messageId,
      receiveCount: delivery.receiveCount,
      error: (e as Error).message,
    });
    await setVisibility(deps, delivery, backoff(deps, delivery.receiveCount));
    throw e;
  }
  const early = (message.notBefore ?? 0) - deps.clock.now();
  if (early > 1000) {
    // Longer than SQS's 15-minute delay: send it again for the rest, and let this one go.
    await deps.client.send(sendJobMessage(deps.queueUrl, message, early / 1000));
    return undefined;
  }
  const outcome = await runDeliveredJob(deps, message, delivery.receiveCount);
  if (outcome.status === 'deferred') {
    await setVisibility(deps, delivery, (outcome.retryAt - deps.clock.now()) / 1000);
    throw new JobFailedError(outcome.error);
  }
  if (outcome.status === 'aborted') {
    // Visible again at once: the next receive moves it to the DLQ.
    await setVisibility(deps, delivery, 0);
    throw new JobFailedError(outcome.error);
  }
  return outcome;
}

function backoff(deps: SqsDeliveryDeps, receiveCount: number): number {
  return receiveCount >= MAX_RECEIVES
    ? 0
    : retryDelaySeconds(receiveCount, deps.retry ?? DEFAULT_RETRY);
}
