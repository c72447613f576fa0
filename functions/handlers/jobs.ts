/**
 * The job Lambda: SQS batches through Powertools' batch processor with partial batch
 * failures, so one failing job keeps only its own message. Each message is processed as on
 * a local broker (adapters/jobs/sqs-delivery.ts): a second delivery is a no-op, a failure is
 * retried after a backoff, and after five receives the queue's redrive policy moves the
 * message to the dead-letter queue. The event source's maximum concurrency comes from
 * `sqsMaxConcurrency(BROKER_CPUS)` (core/jobs/limits.ts), set by the CDK code.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processSqsDelivery } from '../adapters/jobs/sqs-delivery.ts';
import { ensureSchema } from '../adapters/site-db/migrate.ts';
import { type BrokerBase, type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDesktops, type DesktopParts } from '../compose/desktops.ts';
import { composeJobParts, type JobParts } from '../compose/jobs.ts';
import { type Config, ConfigError } from '../config.ts';
import { DatabaseUnavailableError } from '../core/errors.ts';
import { lambdaBroker } from './lambda.ts';

/** What the job Lambda uses of the broker. */
export type JobsBroker = BrokerBase & DesktopParts & JobParts;

/** Composes what running jobs uses: the base, the desktop side (releases, leases) and jobs. */
export async function composeJobsBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<JobsBroker> {
  const base = await composeBase(config, options);
  const desktops = composeDesktops(base);
  return { ...base, ...desktops, ...composeJobParts(base, desktops) };
}

export type JobsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The handler for a composed broker.
 * @throws {ConfigError} without JOB_QUEUE_URL (it is needed to delay retries).
 */
export function buildJobsHandler(
  broker: Pick<JobsBroker, 'jobs' | 'logger' | 'site'>,
): JobsHandler {
  const deps = broker.jobs.sqs;
  if (!deps) {
    throw new ConfigError('environment variable JOB_QUEUE_URL: required by the job handler');
  }
  const processor = new BatchProcessor(EventType.SQS);
  let schemaChecked = false;
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    await processSqsDelivery(deps, {
      messageId: record.messageId,
      body: record.body,
      receiptHandle: record.receiptHandle,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
    });
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(broker.logger))
    .handler(async (event, context) => {
      if (!schemaChecked) {
        // A job Lambda of another version must not run jobs on this database.
        await ensureSchema(broker.site.db, { createIfEmpty: false, upgrade: false }).then(
          () => {
            schemaChecked = true;
          },
          (e: unknown) => {
            if (!(e instanceof DatabaseUnavailableError)) throw e;
          },
        );
      }
      return processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
      });
    }) as unknown as JobsHandler;
}

let built: JobsHandler | undefined;

/** The Lambda entry: composes the broker once per cold start; publishes the batch's metrics. */
export const handler: JobsHandler = async (event, context) => {
  const broker = await lambdaBroker(composeJobsBroker);
  built ??= buildJobsHandler(broker);
  try {
    return await built(event, context);
  } finally {
    broker.metrics.flush();
  }
};
