/**
 * Gateway registrations in the state table: one item per gateway under one partition
 * (`gwreg`, sort key its lower-case name), so every broker and Lambda reads the same list
 * with one Query. An item's TTL is an hour past its expiry: DynamoDB removes it eventually,
 * reads skip it sooner (expiry is checked on read, as everywhere in the state table).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { GatewayRegistry, RegisteredGateway } from '../../core/gateways/ports.ts';
import { EXPIRED_LISTED_MS } from '../../core/gateways/registration.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const PK = 'gwreg';
const key = (name: string) => ({ pk: PK, sk: name.toLowerCase() });

function toRegistration(item: Record<string, unknown>): RegisteredGateway {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...fields } = item;
  return fields as unknown as RegisteredGateway;
}

const kept = (item: Record<string, unknown>, now: number) =>
  Number(item.expiresAt) + EXPIRED_LISTED_MS > now;

export class DynamoGatewayRegistry implements GatewayRegistry {
  readonly #table: StateTable;
  readonly #now: () => number;

  constructor(table: StateTable, now: () => number) {
    this.#table = table;
    this.#now = now;
  }

  async get(name: string): Promise<RegisteredGateway | undefined> {
    const { Item } = await this.#table.doc.send(
      new GetCommand({ TableName: this.#table.tableName, Key: key(name), ConsistentRead: true }),
    );
    return Item && kept(Item, this.#now()) ? toRegistration(Item) : undefined;
  }

  async put(registration: RegisteredGateway): Promise<void> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          ...key(registration.name),
          ...registration,
          ttl: ttlSeconds(registration.expiresAt + EXPIRED_LISTED_MS),
        },
      }),
    );
  }

  async remove(name: string): Promise<boolean> {
    const { Attributes } = await this.#table.doc.send(
      new DeleteCommand({
        TableName: this.#table.tableName,
        Key: key(name),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async listRegistered(now: number): Promise<RegisteredGateway[]> {
    const out: RegisteredGateway[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new QueryCommand({
          TableName: this.#table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': PK },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) if (kept(item, now)) out.push(toRegistration(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
