/**
 * The local runtime's in-process state table answers every command the state stores send as
 * DynamoDB does through the AWS SDK: the same script of commands runs against the SDK talking
 * to the DynamoDB stand-in over HTTP and against the in-process client, and every answer and
 * every refusal (by exception name) is the same. Its data survives a reopen of its folder, and
 * it counts its calls on the request meter as the SDK client does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metered } from '../../functions/adapters/meter.ts';
import { openInProcessStateTable } from '../../functions/adapters/state/in-process-dynamo.ts';
import {
  createStateTable,
  ensureStateTable,
  type StateTable,
} from '../../functions/adapters/state/state-table.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';

let dynamo: EmbeddedDynamo;
let folder: string;
const tables: StateTable[] = [];

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  folder = mkdtempSync(path.join(os.tmpdir(), 'in-process-dynamo-'));
});
afterAll(async () => {
  for (const t of tables) await t.close();
  await dynamo?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function overHttp(name: string): Promise<StateTable> {
  const t = createStateTable({ tableName: name, region: 'us-east-1', endpoint: dynamo.endpoint });
  tables.push(t);
  await ensureStateTable(t);
  return t;
}

async function inProcess(name: string, where = path.join(folder, name)): Promise<StateTable> {
  const t = openInProcessStateTable({ tableName: name, path: where });
  tables.push(t);
  await ensureStateTable(t);
  return t;
}

/** Runs a command, giving its answer or the name of its refusal. */
async function outcome(t: StateTable, command: object): Promise<unknown> {
  try {
    const out = (await t.doc.send(command as never)) as Record<string, unknown>;
    const { $metadata: _m, ConsumedCapacity: _c, ...rest } = out;
    // BatchGetItem answers in no particular order, on DynamoDB too.
    const responses = rest.Responses as Record<string, { pk: string; sk: string }[]> | undefined;
    for (const items of Object.values(responses ?? {}))
      items.sort((a, b) => `${a.pk} ${a.sk}`.localeCompare(`${b.pk} ${b.sk}`));
    return rest;
  } catch (e: unknown) {
    return { refused: (e as Error).name };
  }
}

/** What the state stores do: conditional writes, counters, queries with pages, batches. */
function script(TableName: string): object[] {
  const ttl = Math.ceil(Date.now() / 1000) + 3600;
  return [
    new PutCommand({
      TableName,
      Item: { pk: 'session#a', sk: 'session', user: 'ann', n: 1, tags: ['x', 'y'], ttl },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
    // The same again: refused, as a duplicate ticket or nonce is.
    new PutCommand({
      TableName,
      Item: { pk: 'session#a', sk: 'session', user: 'bob' },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
    new GetCommand({ TableName, Key: { pk: 'session#a', sk: 'session' }, ConsistentRead: true }),
    new GetCommand({ TableName, Key: { pk: 'session#none', sk: 'session' } }),
    new UpdateCommand({
      TableName,
      Key: { pk: 'throttle#u', sk: 'count' },
      UpdateExpression: 'ADD #c :one SET #t = if_not_exists(#t, :now)',
      ExpressionAttributeNames: { '#c': 'count', '#t': 'firstAt' },
      ExpressionAttributeValues: { ':one': 1, ':now': 1000 },
      ReturnValues: 'ALL_NEW',
    }),
    new UpdateCommand({
      TableName,
      Key: { pk: 'throttle#u', sk: 'count' },
      UpdateExpression: 'ADD #c :one',
      ConditionExpression: '#c < :max',
      ExpressionAttributeNames: { '#c': 'count' },
      ExpressionAttributeValues: { ':one': 1, ':max': 1 },
    }),
    new BatchWriteCommand({
      RequestItems: {
        [TableName]: [1, 2, 3, 4, 5].map((i) => ({
          PutRequest: {
            Item: { pk: 'lease#ann', sk: `desktop#${i}`, desktopId: i, nested: { a: [i] } },
          },
        })),
      },
    }),
    new QueryCommand({
      TableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'desktopId <> :skip',
      ExpressionAttributeValues: { ':pk': 'lease#ann', ':prefix': 'desktop#', ':skip': 2 },
      Limit: 3,
    }),
    new QueryCommand({
      TableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'lease#ann' },
      ExclusiveStartKey: { pk: 'lease#ann', sk: 'desktop#3' },
      ScanIndexForward: false,
    }),
    new BatchGetCommand({
      RequestItems: {
        [TableName]: {
          Keys: [
            { pk: 'throttle#u', sk: 'count' },
            { pk: 'lease#ann', sk: 'desktop#1' },
          ],
        },
      },
    }),
    new DeleteCommand({
      TableName,
      Key: { pk: 'lease#ann', sk: 'desktop#1' },
      ConditionExpression: 'desktopId = :id',
      ExpressionAttributeValues: { ':id': 9 },
    }),
    new DeleteCommand({
      TableName,
      Key: { pk: 'lease#ann', sk: 'desktop#1' },
      ReturnValues: 'ALL_OLD',
    }),
    new ScanCommand({
      TableName,
      FilterExpression: 'attribute_exists(#u)',
      ExpressionAttributeNames: { '#u': 'user' },
    }),
    new GetCommand({ TableName: 'no-such-table', Key: { pk: 'a', sk: 'b' } }),
    new PutCommand({ TableName, Item: { pk: 'bad' } }),
  ];
}

describe('the in-process state table', () => {
  it('answers and refuses every command exactly as DynamoDB through the SDK does', async () => {
    const http = await overHttp('compare-http');
    const local = await inProcess('compare-local');
    const viaHttp: unknown[] = [];
    const viaLocal: unknown[] = [];
    for (const command of script('compare-http')) viaHttp.push(await outcome(http, command));
    for (const command of script('compare-local')) viaLocal.push(await outcome(local, command));
    // Answers name their table: compare with the names made equal.
    const same = JSON.parse(JSON.stringify(viaLocal).replaceAll('compare-local', 'compare-http'));
    expect(same).toEqual(viaHttp);
    // What the script shows, so a change in both would not pass unseen.
    expect(viaHttp[1]).toEqual({ refused: 'ConditionalCheckFailedException' });
    expect(viaHttp[2]).toMatchObject({ Item: { user: 'ann', n: 1, tags: ['x', 'y'] } });
    expect(viaHttp[4]).toMatchObject({ Attributes: { count: 1, firstAt: 1000 } });
    expect(viaHttp[5]).toEqual({ refused: 'ConditionalCheckFailedException' });
    expect((viaHttp[7] as { Items: unknown[] }).Items).toHaveLength(2);
    expect(viaHttp[10]).toEqual({ refused: 'ConditionalCheckFailedException' });
    expect(viaHttp[13]).toEqual({ refused: 'ResourceNotFoundException' });
    expect(viaHttp[14]).toEqual({ refused: 'ValidationException' });
  });

  it('keeps its items in its folder across a reopen', async () => {
    const where = path.join(folder, 'reopen');
    const first = await inProcess('reopen', where);
    await first.doc.send(
      new PutCommand({ TableName: 'reopen', Item: { pk: 'k', sk: 's', v: 42 } }),
    );
    await first.close();
    tables.splice(tables.indexOf(first), 1);
    const second = await inProcess('reopen', where);
    const { Item } = await second.doc.send(
      new GetCommand({ TableName: 'reopen', Key: { pk: 'k', sk: 's' } }),
    );
    expect(Item).toEqual({ pk: 'k', sk: 's', v: 42 });
  });

  it('counts each call on the request meter, as the SDK client does', async () => {
    const local = await inProcess('meter');
    const { meter } = await metered(async () => {
      await local.doc.send(new PutCommand({ TableName: 'meter', Item: { pk: 'a', sk: 'b' } }));
      await local.doc.send(new GetCommand({ TableName: 'meter', Key: { pk: 'a', sk: 'b' } }));
    });
    expect(meter.dynamoDbCalls).toBe(2);
  });

  it('finishes the calls under way before it closes, and refuses calls after', async () => {
    const local = openInProcessStateTable({
      tableName: 'closing',
      path: path.join(folder, 'closing'),
    });
    await ensureStateTable(local);
    const writes = Array.from({ length: 20 }, (_, i) =>
      local.doc.send(new PutCommand({ TableName: 'closing', Item: { pk: `k${i}`, sk: 's' } })),
    );
    await local.close();
    await expect(Promise.all(writes)).resolves.toHaveLength(20);
    await expect(
      local.doc.send(new GetCommand({ TableName: 'closing', Key: { pk: 'k0', sk: 's' } })),
    ).rejects.toThrow('the state table is closed');
  });
});
