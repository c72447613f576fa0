/**
 * The leased-mode outbox: events that could not go to the site database, kept in the state
 * table in time order (sort key = time + random suffix) until they are replayed.
 */
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Outbox, OutboxItem } from '../../core/leasing/ports.ts';
import { batchWrite, type StateTable } from './state-table.ts';

const PK = 'outbox';

export class DynamoOutbox implements Outbox {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  async append(items: readonly OutboxItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25).map((item, j) => ({
        PutRequest: {
          Item: {
            pk: PK,
            // Time first, then the position in this call, then randomness: unique and in order.
            sk: `${String(item.at).padStart(15, '0')}#${String(i + j).padStart(3, '0')}#${randomBytes(6).toString('hex')}`,
            item: JSON.stringify(item),
          },
        },
      }));
      await batchWrite(this.#table, chunk);
    }
  }

  async pending(limit: number): Promise<{ id: string; item: OutboxItem }[]> {
    const { Items } = await this.#table.doc.send(
      new QueryCommand({
        TableName: this.#table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': PK },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((i) => ({
      id: String(i.sk),
      item: JSON.parse(String(i.item)) as OutboxItem,
    }));
  }

  async depth(): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new QueryCommand({
          TableName: this.#table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': PK },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async remove(ids: readonly string[]): Promise<void> {
    await batchWrite(
      this.#table,
      ids.map((sk) => ({ DeleteRequest: { Key: { pk: PK, sk } } })),
    );
  }
}
