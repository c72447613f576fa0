/**
 * The bundles as deployed: the app is synthesized with bundling (the same esbuild settings and
 * `npm ci` of argon2 that `cdk deploy` uploads), and each function's folder is taken from
 * `cdk.out`, put in an empty folder beside only what Lambda provides (Node 22, the AWS SDK
 * v3), started in a process of its own with the environment the template gives it, and
 * invoked with real event shapes: the CloudFormation custom-resource event of the migration,
 * ALB requests for health, login, offers, connect, admin, the agent and the gateway API, and
 * an SQS batch with a failing record for the job function. Behind them, the stand-ins the
 * other tests use: the Data API stand-in over PostgreSQL, dynalite, fauxqs, the KMS stand-in
 * for the stored-secrets key, and a Secrets Manager stand-in for the secret ARNs. The closest
 * thing to a deploy that runs here.
 *
 * What differs from AWS: endpoint variables point the clients at the stand-ins, the values
 * CloudFormation resolves at deploy time (ARNs, the queue URL, the table name) are the
 * stand-ins', and the functions run on this machine's architecture (x86_64) instead of ARM64
 * (argon2's package carries both binaries).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../functions/adapters/site-db/migrate.ts';
import { createStateTable, ensureStateTable } from '../../functions/adapters/state/state-table.ts';
import { GATEWAY_REGISTRATIONS_PATH } from '../../functions/core/gateways/registration-contract.ts';
import { signRequest } from '../../functions/core/gateways/signature.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { albEvent } from '../helpers/alb-events.ts';
import { type DataApiServer, startDataApiServer } from '../helpers/data-api-server.ts';
import {
  type DeployedFunction,
  lambdaRoot,
  startDeployedFunction,
} from '../helpers/deployed-function.ts';
import { type KmsServer, startKmsServer } from '../helpers/kms-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from '../helpers/secrets-manager-server.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

const REGION = 'eu-west-1';
const ADMIN_PASSWORD = 'deployed-admin-password';
const GATEWAY_SECRET = 'deployed-gateway-secret-0123456789';
const PASSWORD = 'deployed-user-password';
const AGENT_KEY = 'deployed-agent-key-0123456789';
const ARN = {
  cluster: `arn:aws:rds:${REGION}:123456789012:cluster:deskbroker-site`,
  dbSecret: `arn:aws:secretsmanager:${REGION}:123456789012:secret:deskbroker-db-AbCdEf`,
  gatewaySecret: `arn:aws:secretsmanager:${REGION}:123456789012:secret:deskbroker-gateway-AbCdEf`,
  adminPassword: `arn:aws:secretsmanager:${REGION}:123456789012:secret:deskbroker-admin-AbCdEf`,
  cdnOriginSecret: `arn:aws:secretsmanager:${REGION}:123456789012:secret:deskbroker-cdn-AbCdEf`,
};

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
type Json = any;

let synthesized: Synthesized;
let synthMs: number;
let database: TestDatabase;
let dataApi: DataApiServer;
let dynamo: EmbeddedDynamo;
let sqsApp: ReturnType<typeof buildApp>;
let sqs: SQSClient;
let queueUrl: string;
let secrets: SecretsManagerServer;
let kms: KmsServer;
let secretsKeyArn: string;
let root: string;
const functions = new Map<string, DeployedFunction>();
const timings: string[] = [];

/** The broker functions of the template: handler name → resource. */
function brokerFunctions(): Map<string, Json> {
  const resources = synthesized.raw.stateless as Json;
  const out = new Map<string, Json>();
  for (const [name, fn] of Object.entries({
    ...synthesized.stateless.functions.http,
    jobs: synthesized.stateless.functions.jobs,
    migrate: synthesized.stateless.functions.migrate,
  })) {
    const id = synthesized.stateless.getLogicalId(fn.node.defaultChild as never);
    out.set(name, resources.Resources[id]);
  }
  return out;
}

/**
 * The function's environment as CloudFormation would resolve it: plain values as written,
 * deploy-time values (references) replaced by the stand-ins', plus what Lambda itself sets.
 * @throws naming a variable whose deploy-time value this test does not know.
 */
function deployedEnv(name: string, resource: Json): Record<string, string> {
  const resolved: Record<string, string> = {
    SITE_DB_CLUSTER_ARN: ARN.cluster,
    SITE_DB_SECRET_ARN: ARN.dbSecret,
    STATE_TABLE: 'deskbroker-state-deployed',
    JOB_QUEUE_URL: queueUrl,
    GATEWAY_SECRET_ARN: ARN.gatewaySecret,
    DESKBROKER_ADMIN_PASSWORD_ARN: ARN.adminPassword,
    CDN_ORIGIN_SECRET_ARN: ARN.cdnOriginSecret,
    SECRETS_KEY_ARN: secretsKeyArn,
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(
    resource.Properties.Environment.Variables as Record<string, unknown>,
  )) {
    if (typeof value === 'string') env[key] = value;
    else if (resolved[key] !== undefined) env[key] = resolved[key]!;
    else throw new Error(`${name}: no stand-in value for the deploy-time variable ${key}`);
  }
  return {
    ...env,
    // The site database is the stand-in's (the template names it `deskbroker`).
    SITE_DB_NAME: database.name,
    // Where the SDK clients find the stand-ins instead of AWS.
    RDS_DATA_ENDPOINT: dataApi.endpoint,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: `http://127.0.0.1:${(sqsApp.server.address() as { port: number }).port}`,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    KMS_ENDPOINT: kms.endpoint,
    // What the Lambda runtime sets.
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'ASIADEPLOYEDTEST0000',
    AWS_SECRET_ACCESS_KEY: 'deployed-test-secret-key',
    AWS_SESSION_TOKEN: 'deployed-test-session-token',
    AWS_LAMBDA_FUNCTION_NAME: `Deskbroker-Stateless-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(resource.Properties.MemorySize),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    TZ: ':UTC',
  };
}

/** Starts (once) and returns the deployed function for a handler. */
async function fn(name: string): Promise<DeployedFunction> {
  const running = functions.get(name);
  if (running) return running;
  const resource = brokerFunctions().get(name)!;
  const asset = path.join(synthesized.app.outdir, resource.Metadata['aws:asset:path']);
  const started = await startDeployedFunction(root, name, asset, deployedEnv(name, resource));
  functions.set(name, started);
  return started;
}

/** Invokes `name` and notes the cold start and invocation times. */
async function invoke(name: string, event: unknown) {
  const cold = !functions.has(name);
  const f = await fn(name);
  const { result, ms } = await f.invoke(event);
  if (cold)
    timings.push(`${name}: load ${f.loadMs.toFixed(0)} ms, first invocation ${ms.toFixed(0)} ms`);
  return result;
}

const body = (result: Json) => JSON.parse(result.body);
const header = (result: Json, name: string) =>
  result.multiValueHeaders?.[name]?.[0] ?? result.headers?.[name];

beforeAll(async () => {
  const started = Date.now();
  // As `cdk synth` runs it: bundling on, and each asset's folder named in the template.
  synthesized = synthDeskbroker({
    'aws:cdk:bundling-stacks': ['**'],
    'aws:cdk:enable-asset-metadata': true,
  });
  synthMs = Date.now() - started;
  database = await createTestDatabase('deskbroker_deployed');
  dataApi = await startDataApiServer({ connectionString: database.url });
  dynamo = await startEmbeddedDynamo();
  await ensureStateTable(
    createStateTable({
      tableName: 'deskbroker-state-deployed',
      region: REGION,
      endpoint: dynamo.endpoint,
    }),
  );
  sqsApp = buildApp({ logger: false });
  await sqsApp.listen({ host: '127.0.0.1', port: 0 });
  sqs = new SQSClient({
    region: REGION,
    endpoint: `http://127.0.0.1:${(sqsApp.server.address() as { port: number }).port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'deskbroker-jobs-deployed' })))
    .QueueUrl!;
  secrets = await startSecretsManagerServer({
    [ARN.gatewaySecret]: GATEWAY_SECRET,
    [ARN.adminPassword]: ADMIN_PASSWORD,
    [ARN.cdnOriginSecret]: 'deployed-cdn-origin-secret-0123456789',
  });
  kms = await startKmsServer();
  secretsKeyArn = kms.createKey();
  root = lambdaRoot();
}, 600_000);

afterAll(async () => {
  for (const f of functions.values()) await f.stop();
  console.log(
    `deployed bundles: synth with bundling ${(synthMs / 1000).toFixed(1)} s; ${timings.join('; ')}`,
  );
  sqs?.destroy();
  await sqsApp?.close();
  await secrets?.close();
  await kms?.close();
  await dynamo?.close();
  await dataApi?.close();
  await database?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
  synthesized?.cleanup();
});

describe('the deployed bundles', () => {
  let adminToken: string;
  let adminSignedInAt: number;
  let userToken: string;
  let desktopId: number;

  it('are one folder per function in cdk.out: index.mjs, its chunks, and argon2 where it hashes', () => {
    const all = brokerFunctions();
    expect([...all.keys()].sort()).toEqual(
      ['admin', 'agent', 'gateway-api', 'health', 'jobs', 'login', 'migrate', 'offers'].sort(),
    );
    for (const [name, resource] of all) {
      expect(resource.Metadata['aws:asset:path'], name).toMatch(/^asset\.[0-9a-f]{64}$/);
      expect(resource.Properties.Handler).toBe('index.handler');
      const asset = path.join(synthesized.app.outdir, resource.Metadata['aws:asset:path']);
      expect(existsSync(path.join(asset, 'index.mjs')), name).toBe(true);
      expect(
        readdirSync(path.join(asset, 'chunks')).some((f) => f.endsWith('.mjs')),
        name,
      ).toBe(true);
      // Only the functions that hash passwords import argon2; only they carry it.
      expect(existsSync(path.join(asset, 'node_modules', 'argon2')), name).toBe(
        ['login', 'admin', 'migrate'].includes(name),
      );
    }
  });

  it('migrate: the custom-resource Create creates the schema and the admin from its secret', async () => {
    const result = await invoke('migrate', {
      RequestType: 'Create',
      ServiceToken: `arn:aws:lambda:${REGION}:123456789012:function:Deskbroker-Stateless-MigrationProvider`,
      ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
      StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/Deskbroker-Stateless/${randomUUID()}`,
      RequestId: randomUUID(),
      LogicalResourceId: 'MigrationSchema',
      ResourceType: 'Custom::DeskbrokerSchema',
      ResourceProperties: {
        ServiceToken: `arn:aws:lambda:${REGION}:123456789012:function:Deskbroker-Stateless-MigrationProvider`,
        BrokerVersion: '0.1.0',
        Migrations: '0123456789abcdef',
      },
    });

    expect(result).toEqual({
      PhysicalResourceId: 'deskbroker-site-schema',
      Data: { From: 'none', To: SCHEMA_VERSION, AdminCreated: 'true', SecretsSealed: '0' },
    });
    expect(secrets.reads.get(ARN.adminPassword)).toBe(1);
  });

  it('health: cb_status, is_alive and cb_version over the Data API', async () => {
    const status = await invoke(
      'health',
      albEvent({ path: '/index.pl', query: { action: 'cb_status' } }),
    );
    const alive = await invoke(
      'health',
      albEvent({ path: '/index.pl', query: { action: 'is_alive' } }),
    );
    const version = await invoke(
      'health',
      albEvent({ path: '/index.pl', query: { action: 'cb_version' } }),
    );

    expect([status.statusCode, status.body]).toEqual([200, 'CB_IS_OKAY']);
    expect(status.multiValueHeaders['content-type']).toEqual(['text/plain; charset=utf-8']);
    // is_alive also weighs this machine's load average (shared, often above 4): the database
    // and the directory must pass, whatever the load says.
    if (alive.statusCode !== 200) {
      expect(alive.body).toMatch(/^ERROR_MESSAGE: load average [\d.]+ is above 4$/);
    } else {
      expect(alive.body).toBe('CB_IS_OKAY');
    }
    expect(version.body).toBe('0.1.0');
  });

  it('login: the built-in admin signs in with the password from Secrets Manager', async () => {
    const result = await invoke(
      'login',
      albEvent({
        method: 'POST',
        path: '/api/v1/login',
        body: { username: 'admin', password: ADMIN_PASSWORD },
      }),
    );

    expect(result.statusCode, result.body).toBe(200);
    adminToken = body(result).token;
    adminSignedInAt = Date.now();
    expect(header(result, 'set-cookie')).toMatch(/HttpOnly; Secure; SameSite=Strict/);
  });

  it('login: bad input is a 400 naming the field in zod’s English, which the bundle carries', async () => {
    const result = await invoke(
      'login',
      albEvent({ method: 'POST', path: '/api/v1/login', body: { username: 7, password: 'x' } }),
    );

    expect(result.statusCode, result.body).toBe(400);
    expect(body(result)).toEqual({
      error: 'invalid_request',
      message: 'username: Invalid input: expected string, received number',
    });
  });

  it('admin: applies a site, lists the cluster, and says metrics go to CloudWatch', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const applied = await invoke(
      'admin',
      albEvent({
        method: 'PUT',
        path: '/api/v1/admin/config',
        headers: auth,
        body: {
          authServers: [{ name: 'local', type: 'local' }],
          // Her TOTP secret is sealed under the KMS key (the stored-secrets envelope).
          users: [
            {
              name: 'dee',
              password: PASSWORD,
              groups: ['Staff'],
              mfaSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEH',
            },
          ],
          roles: [{ name: 'User' }],
          pools: [
            {
              name: 'desks',
              desktops: [{ name: 'desk-1', address: '10.0.2.11', agentKey: AGENT_KEY }],
            },
          ],
          policies: [{ name: 'staff', entries: [{ pool: 'desks' }] }],
          assignments: [{ group: 'Staff', role: 'User', policy: 'staff' }],
          settings: { heartbeatSeconds: 60 },
        },
      }),
    );
    const cluster = await invoke(
      'admin',
      albEvent({ path: '/api/v1/admin/cluster', headers: auth }),
    );
    const metrics = await invoke('admin', albEvent({ path: '/metrics', headers: auth }));

    expect(applied.statusCode, applied.body).toBe(200);
    expect(body(applied).changed).toBe(true);
    expect(kms.calls.GenerateDataKey).toBeGreaterThanOrEqual(1);
    expect(cluster.statusCode, cluster.body).toBe(200);
    expect(body(cluster)).toMatchObject({
      heartbeatSeconds: 60,
      heartbeatSource: 'runtime schedule',
    });
    expect(metrics.statusCode).toBe(404);
    expect(body(metrics).message).toContain(
      'CloudWatch (namespace Deskbroker/Deskbroker-Stateless)',
    );
  });

  it('login: a user signs in, and the function writes the sign-in as an EMF metric', async () => {
    // The login function read its copy of the site at the admin's sign-in; a change reaches it
    // once that copy is older than twice CONFIG_CACHE_SECONDS (5 s): before, the copy still
    // answers while a fresh one loads (adapters/site-db/snapshot-source.ts).
    await new Promise((r) => setTimeout(r, Math.max(0, adminSignedInAt + 10_500 - Date.now())));
    const result = await invoke(
      'login',
      albEvent({
        method: 'POST',
        path: '/api/v1/login',
        body: { username: 'dee', password: PASSWORD },
      }),
    );

    expect(result.statusCode, result.body).toBe(200);
    userToken = body(result).token;
    desktopId = body(result).offers[0].desktopId;
    const emf = (await fn('login')).output.filter(
      (line: Json) => line?._aws?.CloudWatchMetrics?.[0]?.Metrics?.[0]?.Name === 'Logins',
    ) as Json[];
    expect(emf.at(-1)).toMatchObject({
      service: 'deskbroker',
      result: 'succeeded',
      authType: 'local',
      mode: 'normal',
      Logins: 1,
    });
    expect(emf.at(-1)._aws.CloudWatchMetrics[0].Namespace).toBe('Deskbroker/Deskbroker-Stateless');
  });

  it('offers: the offer list and a connect, with its launch file', async () => {
    const auth = { authorization: `Bearer ${userToken}` };
    const offers = await invoke('offers', albEvent({ path: '/api/v1/offers', headers: auth }));
    const connect = await invoke(
      'offers',
      albEvent({ method: 'POST', path: `/api/v1/offers/${desktopId}/connect`, headers: auth }),
    );

    expect(offers.statusCode, offers.body).toBe(200);
    expect(body(offers).offers.map((o: Json) => o.name)).toEqual(['desk-1']);
    expect(connect.statusCode, connect.body).toBe(200);
    expect(body(connect)).toMatchObject({
      via: 'direct',
      host: '10.0.2.11',
      port: 3389,
      mode: 'normal',
    });
    expect(body(connect).launchFile.content).toContain('full address:s:10.0.2.11:3389');
  });

  it('agent: a desktop agent reports its user', async () => {
    const result = await invoke(
      'agent',
      albEvent({
        method: 'POST',
        path: '/api/v1/agent/events',
        headers: { authorization: `Agent ${AGENT_KEY}` },
        body: { event: 'login', user: 'dee' },
      }),
    );
    expect(result.statusCode, result.body).toBe(200);
  });

  it('gateway-api: a gateway registers (signed with the secret from Secrets Manager) and lists its forwards', async () => {
    const registration = JSON.stringify({
      name: 'ip-10-0-0-17.eu-west-1.compute.internal',
      address: '10.0.0.17',
      controlUrl: 'http://10.0.0.17:9443',
      portRange: { from: 20001, to: 23000 },
      version: '0.1.0',
      tags: ['default'],
      renewSeconds: 20,
      capacity: { forwards: 3000 },
      stats: { forwards: 0, connections: 0, bytesFromClients: 0, bytesToClients: 0 },
    });
    const registered = await invoke(
      'gateway-api',
      albEvent({
        method: 'POST',
        path: GATEWAY_REGISTRATIONS_PATH,
        sourceIp: '198.51.100.23',
        headers: {
          'content-type': 'application/json',
          ...signRequest({
            secret: GATEWAY_SECRET,
            method: 'POST',
            path: GATEWAY_REGISTRATIONS_PATH,
            body: registration,
          }),
        },
        body: registration,
      }),
    );
    const listPath = '/api/v1/gateway/forwards?gateway=ip-10-0-0-17.eu-west-1.compute.internal';
    const forwards = await invoke(
      'gateway-api',
      albEvent({
        path: '/api/v1/gateway/forwards',
        query: { gateway: 'ip-10-0-0-17.eu-west-1.compute.internal' },
        headers: { ...signRequest({ secret: GATEWAY_SECRET, method: 'GET', path: listPath }) },
      }),
    );

    expect(registered.statusCode, registered.body).toBe(200);
    // The public address is the one the load balancer saw the registration come from.
    expect(body(registered)).toMatchObject({ publicAddress: '198.51.100.23', renewSeconds: 20 });
    expect(forwards.statusCode, forwards.body).toBe(200);
    expect(body(forwards)).toEqual({ forwards: [] });
  });

  it('jobs: an SQS batch with a poison message answers with exactly that message as failed', async () => {
    for (const message of [
      { idempotencyKey: 'deployed:purge', job: { kind: 'purge_records' } },
      { idempotencyKey: 'deployed:heartbeat', job: { kind: 'heartbeat', siteId: 1 } },
    ]) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }),
      );
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not a job at all' }));
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    expect(messages).toHaveLength(3);
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
          SenderId: m.Attributes?.SenderId ?? 'AROAEXAMPLE',
          ApproximateFirstReceiveTimestamp:
            m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody!,
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:deskbroker-jobs-deployed`,
        awsRegion: REGION,
      })),
    };
    const poison = messages.find((m) => m.Body === 'not a job at all')!.MessageId!;

    const result = await invoke('jobs', event);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: poison }] });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const jobs = await client.query(
        "select idempotency_key, status from work_queue where idempotency_key like 'deployed:%' order by 1",
      );
      expect(jobs.rows).toEqual([
        { idempotency_key: 'deployed:heartbeat', status: 'finished' },
        { idempotency_key: 'deployed:purge', status: 'finished' },
      ]);
      const brokers = await client.query('select site_id, name from broker');
      expect(brokers.rows).toEqual([{ site_id: 1, name: 'deskbroker-1' }]);
    } finally {
      await client.end();
    }
    const emf = (await fn('jobs')).output.filter(
      (line: Json) => line?._aws?.CloudWatchMetrics?.[0]?.Metrics?.[0]?.Name === 'Jobs',
    );
    expect(emf.length).toBeGreaterThanOrEqual(2);
  });
});
