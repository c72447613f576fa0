/**
 * End to end against a LocalStack deployment (`npm run deploy:local`, then
 * `npm run test:localstack`). LocalStack's free edition has no load balancer, Aurora or
 * ECS (docs/deploy-localstack.md), so the deployment is the LocalStack mode of the CDK app
 * and this suite calls the functions as the load balancer would: Lambda Invoke with an ALB
 * event in multi-value headers mode. It checks the deploy-time migration (schema and admin
 * account), health queries, login with a session in the DynamoDB state table, the admin API,
 * and a job travelling SQS → job function → work_queue.
 *
 * Needs LOCALSTACK_ENDPOINT (for example http://localhost.localstack.cloud:4566) and the
 * outputs file the deploy script writes (cdk.out/localstack-outputs.json, or
 * LOCALSTACK_OUTPUTS). Without LOCALSTACK_ENDPOINT every test is skipped.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ALBEvent, ALBResult } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { albEvent, type EventOptions } from '../helpers/alb-events.ts';

const endpoint = process.env.LOCALSTACK_ENDPOINT;
const region = process.env.AWS_REGION ?? 'us-east-1';
const outputsFile = process.env.LOCALSTACK_OUTPUTS ?? 'cdk.out/localstack-outputs.json';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The stack outputs `cdklocal deploy --outputs-file` wrote, both stacks merged. */
function readOutputs(): Record<string, string> {
  if (!existsSync(outputsFile)) {
    throw new Error(`${outputsFile} is missing: run \`npm run deploy:local\` first`);
  }
  const byStack = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  return Object.assign({}, ...Object.values(byStack));
}

/**
 * Lambda Invoke over LocalStack's HTTP API. LocalStack does not check signatures; it reads
 * the region from the credential scope of the Authorization header.
 */
async function invoke<T>(functionName: string, payload: unknown): Promise<T> {
  const response = await fetch(
    `${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(payload),
    },
  );
  const text = await response.text();
  if (!response.ok || response.headers.get('x-amz-function-error')) {
    throw new Error(`invoke ${functionName}: ${response.status} ${text}`);
  }
  return JSON.parse(text) as T;
}

/** Secrets Manager GetSecretValue over its JSON protocol. */
async function secretValue(secretId: string): Promise<string> {
  const response = await fetch(endpoint!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ SecretId: secretId }),
  });
  if (!response.ok) throw new Error(`GetSecretValue: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { SecretString: string }).SecretString;
}

const header = (result: ALBResult, name: string) =>
  result.multiValueHeaders?.[name]?.[0] ?? result.headers?.[name];

describe.skipIf(!endpoint)(
  'deskbroker on LocalStack (skipped without LOCALSTACK_ENDPOINT: deploy with `npm run deploy:local`, then run `LOCALSTACK_ENDPOINT=http://localhost.localstack.cloud:4566 npm run test:localstack`)',
  () => {
    let outputs: Record<string, string>;
    const call = (fn: string, options: EventOptions) =>
      invoke<ALBResult>(outputs[`${fn}FunctionName`]!, albEvent(options) satisfies ALBEvent);

    beforeAll(() => {
      outputs = readOutputs();
    });

    it('answers cb_version with this version', async () => {
      const result = await call('health', { path: '/index.pl', query: { action: 'cb_version' } });
      expect(result.statusCode).toBe(200);
      expect(result.body).toBe(pkg.version);
      expect(result.multiValueHeaders).toBeDefined();
    });

    it('answers cb_status CB_IS_OKAY: the deploy migrated the site database', async () => {
      const result = await call('health', { path: '/index.pl', query: { action: 'cb_status' } });
      expect(result.statusCode).toBe(200);
      expect(result.body?.split('\n')[0]).toBe('CB_IS_OKAY');
    });

    it('logs the built-in admin in with the generated password, keeps the session in DynamoDB, and serves the admin API', async () => {
      const password = await secretValue(outputs.AdminPasswordSecretArn!);
      const login = await call('login', {
        method: 'POST',
        path: '/api/v1/login',
        body: { username: 'admin', password },
      });
      expect(login.statusCode, login.body).toBe(200);
      const { token } = JSON.parse(login.body!) as { token: string };
      expect(token.length).toBeGreaterThan(20);
      expect(header(login, 'set-cookie')).toMatch(/HttpOnly/i);

      const dynamo = new DynamoDBClient({ endpoint, region, credentials });
      const items = await dynamo.send(new ScanCommand({ TableName: outputs.StateTableName! }));
      expect(items.Items?.length ?? 0).toBeGreaterThan(0);

      const config = await call('admin', {
        path: '/api/v1/admin/config',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(config.statusCode, config.body).toBe(200);

      const refused = await call('admin', { path: '/api/v1/admin/config' });
      expect(refused.statusCode).toBe(401);
    });

    it('runs a job sent to the queue through the job function', async () => {
      const key = `localstack-e2e-${randomUUID()}`;
      const sqs = new SQSClient({ endpoint, region, credentials });
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: outputs.JobQueueUrl!,
          MessageBody: JSON.stringify({ idempotencyKey: key, job: { kind: 'purge_records' } }),
        }),
      );
      const password = await secretValue(outputs.AdminPasswordSecretArn!);
      const login = await call('login', {
        method: 'POST',
        path: '/api/v1/login',
        body: { username: 'admin', password },
      });
      const { token } = JSON.parse(login.body!) as { token: string };
      let status: string | undefined;
      for (let i = 0; i < 60 && status !== 'finished'; i++) {
        const jobs = await call('admin', {
          path: '/api/v1/admin/jobs',
          query: { kind: 'purge_records', limit: '50' },
          headers: { authorization: `Bearer ${token}` },
        });
        const list = JSON.parse(jobs.body!) as {
          jobs: { idempotencyKey: string; status: string }[];
        };
        status = list.jobs.find((j) => j.idempotencyKey === key)?.status;
        if (status !== 'finished') await sleep(1000);
      }
      expect(status).toBe('finished');
    }, 90_000);
  },
);
