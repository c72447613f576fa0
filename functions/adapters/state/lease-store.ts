/**
 * Connection leases in the state table: one item per user and desktop (pk `lease#<user>`,
 * sk `desktop#<id>`), plus a `revoked` marker item in the same partition, so one query tells
 * leased mode both the user's leases and whether they were revoked. Written as single-item
 * updates (no transactions), expiry checked on read.
 */
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Lease } from '../../core/leasing/leases.ts';
import type { LeaseStore } from '../../core/leasing/ports.ts';
import { batchWrite, type StateTable, ttlSeconds } from './state-table.ts';

const pk = (user: string) => `lease#${user.toLowerCase()}`;
const sk = (desktopId: number) => `desktop#${desktopId}`;
const REVOKED = 'revoked';

function toLease(item: Record<string, unknown>): Lease {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...lease } = item;
  return lease as unknown as Lease;
}

export class DynamoLeaseStore implements LeaseStore {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  async record(lease: Lease): Promise<void> {
    const { createdAt, ...rest } = lease;
    const names: Record<string, string> = { '#ttl': 'ttl', '#createdAt': 'createdAt' };
    const values: Record<string, unknown> = {
      ':ttl': ttlSeconds(lease.expiresAt),
      ':createdAt': createdAt,
    };
    const sets = ['#ttl = :ttl', '#createdAt = if_not_exists(#createdAt, :createdAt)'];
    for (const [k, v] of Object.entries(rest)) {
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    await this.#table.doc.send(
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: pk(lease.user), sk: sk(lease.desktopId) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async extend(user: string, desktopId: number, expiresAt: number): Promise<boolean> {
    try {
      await this.#table.doc.send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: { pk: pk(user), sk: sk(desktopId) },
          UpdateExpression: 'SET expiresAt = :e, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(pk) AND expiresAt < :e',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':e': expiresAt, ':ttl': ttlSeconds(expiresAt) },
        }),
      );
      return true;
    } catch (e: unknown) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  async forUser(user: string, now: number) {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new QueryCommand({
          TableName: this.#table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk(user) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const revoked = items.some((i) => i.sk === REVOKED);
    const leases = items.filter((i) => String(i.sk).startsWith('desktop#')).map(toLease);
    return { leases: leases.filter((l) => l.expiresAt > now), revoked };
  }

  async list(filter: { user?: string }, now: number): Promise<Lease[]> {
    if (filter.user) return (await this.forUser(filter.user, now)).leases;
    const out: Lease[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new ScanCommand({
          TableName: this.#table.tableName,
          FilterExpression:
            'begins_with(pk, :lease) AND begins_with(sk, :desktop) AND expiresAt > :now',
          ExpressionAttributeValues: { ':lease': 'lease#', ':desktop': 'desktop#', ':now': now },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(page.Items ?? []).map(toLease));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.user.localeCompare(b.user) || a.desktopId - b.desktopId);
  }

  async remove(user: string, desktopId: number): Promise<boolean> {
    const { Attributes } = await this.#table.doc.send(
      new DeleteCommand({
        TableName: this.#table.tableName,
        Key: { pk: pk(user), sk: sk(desktopId) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async revoke(user: string, now: number): Promise<number> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: { pk: pk(user), sk: REVOKED, user, revokedAt: now },
      }),
    );
    const { leases } = await this.forUser(user, 0);
    await batchWrite(
      this.#table,
      leases.map((l) => ({ DeleteRequest: { Key: { pk: pk(user), sk: sk(l.desktopId) } } })),
    );
    return leases.length;
  }

  async unrevoke(user: string): Promise<void> {
    await this.#table.doc.send(
      new DeleteCommand({ TableName: this.#table.tableName, Key: { pk: pk(user), sk: REVOKED } }),
    );
  }
}
