/**
 * The state table (DynamoDB): sessions, leases and other short-lived state, kept apart from
 * the site database so they survive its outages. One table, items keyed by `pk` + `sk`,
 * expiring through the `ttl` attribute (epoch seconds) and checked on every read, because
 * DynamoDB deletes expired items only "within a few days".
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countDynamoDbCall, meterSdkClient } from '../meter.ts';

export const TTL_ATTRIBUTE = 'ttl';

/** The key schema, shared with the CDK construct that creates the table on AWS. */
export const STATE_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export interface StateTable {
  /** Document commands (`@aws-sdk/lib-dynamodb`): plain values in, plain values out. */
  readonly doc: Pick<DynamoDBDocumentClient, 'send' | 'destroy'>;
  /** Table commands (`@aws-sdk/client-dynamodb`). */
  readonly raw: Pick<DynamoDBClient, 'send' | 'destroy'>;
  readonly tableName: string;
  /** Lets go of the client (and, in process, flushes the store). */
  close(): Promise<void>;
}

export interface StateTableOptions {
  readonly tableName: string;
  readonly region: string;
  /** A DynamoDB endpoint other than AWS's (the shared state server, a stand-in). */
  readonly endpoint?: string;
}

/** One DynamoDB client for the life of the process. */
export function createStateTable(options: StateTableOptions): StateTable {
  const raw = new DynamoDBClient({
    region: options.region,
    endpoint: options.endpoint,
    // A local stand-in takes any credentials; AWS uses the function's role.
    ...(options.endpoint
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
  });
  // Every request the client sends, retries included, counts on the request's meter.
  meterSdkClient(raw, 'deskbrokerDynamoDbCalls', countDynamoDbCall);
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    doc,
    raw,
    tableName: options.tableName,
    close: async () => raw.destroy(),
  };
}

/**
 * Creates the table if it does not exist (local runtime and tests; on AWS, CDK creates it),
 * and waits until it is ACTIVE (DynamoDB and its stand-ins refuse items while it is CREATING).
 * @throws {Error} when the table is not active within `timeoutMs`.
 */
export async function ensureStateTable(table: StateTable, timeoutMs = 30_000): Promise<void> {
  const status = () =>
    table.raw
      .send(new DescribeTableCommand({ TableName: table.tableName }))
      .then((out) => out.Table?.TableStatus);
  let current: string | undefined;
  try {
    current = await status();
  } catch (e: unknown) {
    if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
    await table.raw.send(
      new CreateTableCommand({
        TableName: table.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE_KEYS.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: STATE_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
    current = await status();
  }
  for (const started = Date.now(); current !== 'ACTIVE'; current = await status()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`the state table ${table.tableName} is ${current}, not ACTIVE`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Epoch seconds for the `ttl` attribute. */
export const ttlSeconds = (epochMs: number) => Math.ceil(epochMs / 1000);

/**
 * BatchWriteItem in chunks of 25, retrying (with backoff) what DynamoDB leaves unprocessed.
 * @throws {Error} when the table keeps refusing part of a batch.
 */
export async function batchWrite(
  table: StateTable,
  requests: readonly Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: Record<string, unknown>[] | undefined = requests.slice(i, i + 25);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      const { UnprocessedItems } = await table.doc.send(
        new BatchWriteCommand({ RequestItems: { [table.tableName]: pending as never } }),
      );
      pending = UnprocessedItems?.[table.tableName] as Record<string, unknown>[] | undefined;
      if (pending?.length && attempt >= 8)
        throw new Error('the state table keeps refusing a batch write');
      if (pending?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}
