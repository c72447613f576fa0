/**
 * Jobs on Amazon SQS, against fauxqs (the SQS wire protocol, in process, on loopback): the
 * job Lambda's handler (Powertools batch processing, partial batch failures) behind an
 * emulation of the event source mapping, and a local broker polling the queue. Every
 * message is delivered twice and has its effect once; a poison message and an always-failing
 * job land in the dead-letter queue after 5 receives while the others finish.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../functions/adapters/jobs/sqs-queue.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { type Broker, compose } from '../../functions/compose.ts';
import { loadConfig } from '../../functions/config.ts';
import type { JobPayload } from '../../functions/core/jobs/payload.ts';
import { NO_METRICS } from '../../functions/core/metrics/ports.ts';
import { buildJobsHandler, type JobsHandler } from '../../functions/handlers/jobs.ts';
import { startJobRunner } from '../../functions/local/job-runner.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

let app: ReturnType<typeof buildApp>;
let endpoint: string;
let sqs: SQSClient;
let database: TestDatabase;
const runs = new Map<string, number>();

const context = {
  functionName: 'deskbroker-jobs',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:deskbroker-jobs',
  memoryLimitInMB: '512',
  awsRequestId: 'test-request',
  logGroupName: '/aws/lambda/deskbroker-jobs',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** A queue with a DLQ after 5 receives, and a broker composed on it. */
async function queueAndBroker(name: string): Promise<{ url: string; dlq: string; broker: Broker }> {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const url = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: '5',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '5' }),
        },
      }),
    )
  ).QueueUrl!;
  const config = loadConfig({
    SITE_DB_URL: database.url,
    JOB_QUEUE_URL: url,
    SQS_ENDPOINT: endpoint,
    SITE_ID: '4',
    LOG_LEVEL: 'SILENT',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
  });
  const broker = await compose(config, {
    jobs: {
      retry: { baseSeconds: 1, maxSeconds: 1 },
      bodies: {
        delayed_release: async (job) => {
          runs.set(job.user, (runs.get(job.user) ?? 0) + 1);
          if (job.user.startsWith('poison')) throw new Error('this job always fails');
        },
      },
    },
  });
  await ensureSchema(broker.site.db, { createIfEmpty: true, upgrade: false });
  return { url, dlq, broker };
}

/** What the Lambda event source mapping does: receive, invoke, delete what did not fail. */
async function invokeOnce(handler: JobsHandler, url: string): Promise<number> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return 0;
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      awsRegion: 'us-east-1',
    })),
  };
  const response = await handler(event, context);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of messages) {
    if (!failed.has(m.MessageId!)) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  return messages.length;
}

async function depth(url: string): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Sends every job's message a second time, exactly as the first. */
async function duplicateAll(url: string, jobs: { key: string; job: JobPayload }[]) {
  for (const { key, job } of jobs) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify({ idempotencyKey: key, job }),
      }),
    );
  }
}

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  sqs = createSqsClient({ region: 'us-east-1', endpoint });
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  sqs?.destroy();
  await app?.close();
  await database?.drop();
});

describe('jobs on SQS', () => {
  it('the job Lambda runs every job once although each message is delivered twice', async () => {
    const { url, broker } = await queueAndBroker('lambda-jobs');
    const handler = buildJobsHandler(broker);
    const jobs: { key: string; job: JobPayload }[] = [];
    for (let i = 0; i < 15; i++) {
      const job: JobPayload = { kind: 'delayed_release', desktopId: 1, user: `lambda-${i}` };
      const { idempotencyKey } = await broker.jobs.queue.enqueue(job);
      jobs.push({ key: idempotencyKey, job });
    }
    await duplicateAll(url, jobs);

    let received = 0;
    for (let i = 0; i < 20 && (await depth(url)) > 0; i++)
      received += await invokeOnce(handler, url);
    const rows = await broker.jobs.ledger.list({ kind: 'delayed_release', limit: 100 });

    expect(received).toBe(30);
    expect(jobs.map((j) => runs.get(j.job.kind === 'delayed_release' ? j.job.user : ''))).toEqual(
      Array(15).fill(1),
    );
    expect(
      rows
        .filter((r) => r.status === 'finished')
        .map((r) => r.idempotencyKey)
        .sort(),
    ).toEqual(jobs.map((j) => j.key).sort());
    expect(await depth(url)).toBe(0);
    await broker.close();
  });

  it('moves a poison message and an always-failing job to the DLQ after 5 receives; the rest finish', async () => {
    const { url, dlq, broker } = await queueAndBroker('poison-jobs');
    const handler = buildJobsHandler(broker);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: '{"kind":"mine_bitcoin"}' }),
    );
    const failing = await broker.jobs.queue.enqueue({
      kind: 'delayed_release',
      desktopId: 1,
      user: 'poison-1',
    });
    for (let i = 0; i < 8; i++) {
      await broker.jobs.queue.enqueue({ kind: 'delayed_release', desktopId: 1, user: `good-${i}` });
    }

    const started = Date.now();
    while ((await depth(url)) > 0 && Date.now() - started < 30_000) {
      await invokeOnce(handler, url);
      await sleep(200);
    }
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const [row] = await broker.jobs.ledger.list({
      kind: 'delayed_release',
      status: 'aborted',
      limit: 5,
    });

    expect(await depth(url)).toBe(0);
    expect((dead.Messages ?? []).map((m) => m.Body).sort()).toEqual(
      [
        '{"kind":"mine_bitcoin"}',
        JSON.stringify({
          idempotencyKey: failing.idempotencyKey,
          job: { kind: 'delayed_release', desktopId: 1, user: 'poison-1' },
        }),
      ].sort(),
    );
    expect(runs.get('poison-1')).toBe(5);
    expect(row).toMatchObject({
      idempotencyKey: failing.idempotencyKey,
      attempts: 5,
      status: 'aborted',
    });
    expect(Array.from({ length: 8 }, (_, i) => runs.get(`good-${i}`))).toEqual(Array(8).fill(1));
    await broker.close();
  });

  it('sends a job due later than SQS can delay (15 minutes) again, without running it', async () => {
    const { url, broker } = await queueAndBroker('later-jobs');
    const handler = buildJobsHandler(broker);
    const job: JobPayload = { kind: 'delayed_release', desktopId: 1, user: 'later' };
    const runAt = Date.now() + 30 * 60_000;
    const { idempotencyKey } = await broker.jobs.queue.enqueue(job, { runAt });
    // As SQS hands it over once its 15-minute delay is up, a quarter of an hour early.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify({ idempotencyKey, job, notBefore: runAt }),
      }),
    );

    const received = await invokeOnce(handler, url);
    const delayed = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const [row] = await broker.jobs.ledger.list({ kind: 'delayed_release', limit: 1 });

    expect(received).toBe(1);
    expect(runs.has('later')).toBe(false);
    expect(delayed.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesDelayed: '2',
    });
    expect(row).toMatchObject({ idempotencyKey, status: 'pending', runAfter: runAt });
    await broker.close();
  });

  it('a local broker polling the queue runs every job once, duplicates included', async () => {
    const { url, broker } = await queueAndBroker('local-jobs');
    const jobs: { key: string; job: JobPayload }[] = [];
    for (let i = 0; i < 25; i++) {
      const job: JobPayload = { kind: 'delayed_release', desktopId: 1, user: `local-${i}` };
      jobs.push({ key: (await broker.jobs.queue.enqueue(job)).idempotencyKey, job });
    }
    await duplicateAll(url, jobs);
    const runner = startJobRunner({
      source: broker.jobs.source(),
      logger: broker.logger,
      cpus: 2,
      loadAverage: () => 0,
      pollMs: 50,
      metrics: NO_METRICS,
    });

    const started = Date.now();
    while ((await depth(url)) > 0 && Date.now() - started < 20_000) await sleep(100);
    await runner.stop();
    const finished = await broker.jobs.ledger.list({
      status: 'finished',
      kind: 'delayed_release',
      limit: 200,
    });

    expect(await depth(url)).toBe(0);
    expect(Array.from({ length: 25 }, (_, i) => runs.get(`local-${i}`))).toEqual(Array(25).fill(1));
    expect(finished.filter((r) => jobs.some((j) => j.key === r.idempotencyKey)).length).toBe(25);
    await broker.close();
  });
});
