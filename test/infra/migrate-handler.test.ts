/**
 * The deploy-time migration handler (functions/handlers/migrate.ts) as CloudFormation's
 * Provider framework calls it: over the RDS Data API (the wire-compatible stand-in over a
 * fresh PostgreSQL database), configured from the environment the CDK sets.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../functions/adapters/site-db/migrate.ts';
import { createStateTable, ensureStateTable } from '../../functions/adapters/state/state-table.ts';
import { loadConfig } from '../../functions/config.ts';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { handler, PHYSICAL_RESOURCE_ID, runMigration } from '../../functions/handlers/migrate.ts';
import { startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { type DataApiServer, startDataApiServer } from '../helpers/data-api-server.ts';
import { startKmsServer } from '../helpers/kms-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

let primary: TestDatabase;
let secondary: TestDatabase;
let dataApi: DataApiServer;
const saved = { ...process.env };

/** What the CDK bind helpers set on the migration function (stand-in endpoint added). */
function migrationEnv(database: string): Record<string, string> {
  return {
    SITE_DB_CLUSTER_ARN: 'arn:aws:rds:eu-west-1:123456789012:cluster:deskbroker-test',
    SITE_DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:deskbroker-test',
    SITE_DB_NAME: database,
    RDS_DATA_ENDPOINT: dataApi.endpoint,
    AWS_REGION: 'eu-west-1',
    STATE_TABLE: 'deskbroker-test-state',
    SITE_ID: '1',
    BROKER_CPUS: '2',
    DESKBROKER_ADMIN_PASSWORD: 'first-admin-password',
    LOG_LEVEL: 'SILENT',
  };
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  primary = await createTestDatabase('deskbroker_migrate');
  secondary = await createTestDatabase('deskbroker_migrate2');
  dataApi = await startDataApiServer({ connectionString: primary.url });
  Object.assign(process.env, migrationEnv(primary.name));
});

afterAll(async () => {
  process.env = saved;
  await dataApi?.close();
  await primary?.drop();
  await secondary?.drop();
});

const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({
    RequestType,
    PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    ResourceType: 'Custom::DeskbrokerSchema',
    ResourceProperties: { ServiceToken: 'arn:x', BrokerVersion: '0.1.0', Migrations: 'abc' },
  }) as unknown as Parameters<typeof handler>[0];

describe('migrate handler', () => {
  it('creates the schema and the built-in admin on Create', async () => {
    const response = await handler(event('Create'));
    expect(response).toEqual({
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { From: 'none', To: SCHEMA_VERSION, AdminCreated: 'true', SecretsSealed: '0' },
    });
    const versions = await query<{ name: string }>(
      primary.url,
      'select name from schema_migration order by name',
    );
    expect(versions.at(-1)?.name).toBe(SCHEMA_VERSION);
  });

  it('changes nothing on an Update at the same version, and keeps the admin', async () => {
    const response = await handler(event('Update'));
    expect(response.Data).toEqual({
      From: SCHEMA_VERSION,
      To: SCHEMA_VERSION,
      AdminCreated: 'false',
      SecretsSealed: '0',
    });
    expect(response.PhysicalResourceId).toBe(PHYSICAL_RESOURCE_ID);
  });

  it('leaves the database alone on Delete', async () => {
    const response = await handler(event('Delete'));
    expect(response).toEqual({ PhysicalResourceId: PHYSICAL_RESOURCE_ID });
    const tables = await query<{ n: number }>(
      primary.url,
      "select count(*)::int as n from information_schema.tables where table_name = 'schema_migration'",
    );
    expect(tables[0]?.n).toBe(1);
  });

  it('migrates the secondary database as well', async () => {
    const config = loadConfig({ ...migrationEnv(primary.name), SECONDARY_DB_URL: secondary.url });
    const outcome = await runMigration(config);
    expect(outcome.databases.map((d) => [d.from, d.to])).toEqual([
      [SCHEMA_VERSION, SCHEMA_VERSION],
      ['none', SCHEMA_VERSION],
    ]);
    const versions = await query<{ name: string }>(
      secondary.url,
      'select name from schema_migration order by name',
    );
    expect(versions.at(-1)?.name).toBe(SCHEMA_VERSION);
  });

  it('seals the secrets an older site stored in clear, with the KMS key, and mirrors them sealed', async () => {
    const kms = await startKmsServer();
    const dynamo = await startEmbeddedDynamo();
    try {
      await query(
        primary.url,
        `insert into auth_server (name, type, enabled, position, settings, created_at, updated_at)
         values ('corp', 'ldap', true, 0, '{"url":"ldap://10.0.0.9","userBase":"dc=x","bindDn":"cn=r","bindPassword":"clear-reader-pw"}', now(), now())`,
      );
      const config = loadConfig({
        ...migrationEnv(primary.name),
        SECRETS_KEY_ARN: kms.createKey(),
        KMS_ENDPOINT: kms.endpoint,
        DYNAMODB_ENDPOINT: dynamo.endpoint,
      });
      const state = createStateTable({
        tableName: config.stateTable,
        region: config.region,
        endpoint: dynamo.endpoint,
      });
      await ensureStateTable(state);

      const outcome = await runMigration(config);
      const stored = await query<{ settings: { bindPassword: string } }>(
        primary.url,
        "select settings from auth_server where name = 'corp'",
      );
      const mirrored = await state.doc.send(new ScanCommand({ TableName: config.stateTable }));
      state.raw.destroy();

      expect(outcome.secretsSealed).toBe(1);
      expect(stored[0]!.settings.bindPassword).toMatch(/^enc1\./);
      expect(JSON.stringify(mirrored.Items)).toContain('enc1.');
      expect(JSON.stringify(mirrored.Items)).not.toContain('clear-reader-pw');
      expect(kms.calls.GenerateDataKey).toBe(1);
    } finally {
      await query(primary.url, "delete from auth_server where name = 'corp'");
      await dynamo.close();
      await kms.close();
    }
  });

  it('retries a database that does not answer, then fails the deployment', async () => {
    const config = loadConfig({
      ...migrationEnv(primary.name),
      RDS_DATA_ENDPOINT: 'http://127.0.0.1:9',
    });
    const started = Date.now();
    await expect(runMigration(config, { attempts: 3, backoffMs: 50 })).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    // Two waits between three attempts: 50 ms + 100 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});
