/**
 * The stateful stack as deployed with cdk.json's context: Aurora (writer and reader in two
 * AZs, Data API, secret, deletion protection, backups), the state table, the job queue and
 * its DLQ, the secrets. One synthesis for the file (it also runs cdk-nag).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/adapters/state/state-table.ts';
import { MAX_RECEIVES } from '../../functions/core/jobs/limits.ts';
import { VISIBILITY_FACTOR } from '../../lib/constructs/job-queue.ts';
import { type Synthesized, synthDeskbroker } from './synth.ts';

let s: Synthesized;
let t: Template;

beforeAll(() => {
  s = synthDeskbroker();
  t = s.statefulTemplate;
});
afterAll(() => s?.cleanup());

/** The only resource of a type, as [logicalId, resource]. */
function only(type: string): [string, { Properties: Record<string, unknown> }] {
  const found = Object.entries(t.findResources(type));
  expect(found, type).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, unknown> }];
}

describe('site database (Aurora PostgreSQL Serverless v2)', () => {
  it('is one Aurora PostgreSQL cluster with the Data API on, encrypted, protected and backed up', () => {
    const [, cluster] = only('AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      DeletionProtection: true,
      DatabaseName: 'deskbroker',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
    });
    expect(cluster.Properties.BackupRetentionPeriod as number).toBeGreaterThanOrEqual(7);
    expect(t.findResources('AWS::RDS::DBCluster')).toSatisfy((r: Record<string, unknown>) =>
      Object.values(r).every(
        (c) => (c as { DeletionPolicy?: string }).DeletionPolicy === 'Snapshot',
      ),
    );
  });

  it('has a serverless writer and a reader in another AZ, in the promotion tier that scales with it', () => {
    const instances = Object.values(t.findResources('AWS::RDS::DBInstance')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    expect(instances).toHaveLength(2);
    for (const i of instances) expect(i.DBInstanceClass).toBe('db.serverless');
    const writer = instances.find((i) => i.PromotionTier === 0);
    const reader = instances.find((i) => i.PromotionTier === 1);
    expect(writer, 'writer (tier 0)').toBeDefined();
    expect(reader, 'reader (tier 1: scales with the writer)').toBeDefined();
    expect(writer!.AvailabilityZone).toBeDefined();
    expect(reader!.AvailabilityZone).toBeDefined();
    expect(JSON.stringify(reader!.AvailabilityZone)).not.toBe(
      JSON.stringify(writer!.AvailabilityZone),
    );
  });

  it('keeps the master secret in Secrets Manager, rotated', () => {
    const [, cluster] = only('AWS::RDS::DBCluster');
    expect(JSON.stringify(cluster.Properties.MasterUserPassword)).toContain(
      '{{resolve:secretsmanager:',
    );
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  it('lives in isolated subnets of a VPC with two AZs', () => {
    t.resourceCountIs('AWS::EC2::VPC', 1);
    const [, group] = only('AWS::RDS::DBSubnetGroup');
    const subnets = group.Properties.SubnetIds as { Ref: string }[];
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet.Ref).toMatch(/databaseSubnet/);
  });

  it('has no secondary database unless asked', () => {
    expect(s.stateful.secondaryDatabase).toBeUndefined();
    only('AWS::RDS::DBCluster');
  });
});

describe('state table (DynamoDB)', () => {
  it('uses the adapter key schema, on demand, TTL on the adapter attribute, PITR, deletion protection', () => {
    const [id, table] = only('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: STATE_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(TTL_ATTRIBUTE).toBe('ttl');
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    expect(id).toMatch(/^StateTable/);
  });
});

describe('secrets key (KMS)', () => {
  it('is one customer-managed symmetric key with yearly rotation, kept when the stack goes', () => {
    const [, key] = only('AWS::KMS::Key');
    expect(key.Properties).toMatchObject({
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
      PendingWindowInDays: 30,
    });
    expect(key.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('job queue (SQS)', () => {
  const queues = () =>
    Object.entries(t.findResources('AWS::SQS::Queue')) as [
      string,
      { Properties: Record<string, unknown> },
    ][];

  it('sends a job to the DLQ after MAX_RECEIVES (5) receives', () => {
    const [dlqId] = queues().find(([id]) => id.includes('DeadLetter'))!;
    const [, main] = queues().find(([id]) => !id.includes('DeadLetter'))!;
    expect(MAX_RECEIVES).toBe(5);
    expect(main.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: MAX_RECEIVES,
    });
  });

  it('keeps messages invisible for at least 6 × the job function timeout', () => {
    const [, main] = queues().find(([id]) => !id.includes('DeadLetter'))!;
    const timeout = s.stateful.jobQueue.jobFunctionTimeout.toSeconds();
    expect(main.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(
      VISIBILITY_FACTOR * timeout,
    );
    // And the job function is built with exactly that timeout.
    const jobs = Object.values(s.statelessTemplate.findResources('AWS::Lambda::Function')).find(
      (f) =>
        (f as { Properties: { Description?: string } }).Properties.Description?.includes(
          'Background jobs',
        ),
    ) as { Properties: { Timeout: number } };
    expect(jobs.Properties.Timeout).toBe(timeout);
  });

  it('encrypts both queues and refuses requests without TLS', () => {
    for (const [, q] of queues()) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(JSON.stringify(p)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('secrets', () => {
  it('generates the gateway secret and the admin password, kept when the stack goes', () => {
    const secrets = Object.values(t.findResources('AWS::SecretsManager::Secret')).map(
      (r) => r as { Properties: { Description?: unknown }; DeletionPolicy?: string },
    );
    const described = (needle: string) =>
      secrets.find((x) => JSON.stringify(x.Properties.Description ?? '').includes(needle));
    const gateway = described('GATEWAY_SECRET');
    const admin = described('built-in admin');
    expect(gateway?.DeletionPolicy).toBe('Retain');
    expect(admin?.DeletionPolicy).toBe('Retain');
  });

  it('publishes what the LocalStack suite and operators need as outputs', () => {
    const outputs = Object.keys(t.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'StateTableName',
        'JobQueueUrl',
        'DeadLetterQueueUrl',
        'AdminPasswordSecretArn',
      ]),
    );
  });
});
