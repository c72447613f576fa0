/**
 * Connection leases in the state table: one item per user and desktop (pk `lease#<user>`,
 * sk `desktop#<id>`), plus a `revoked` marker item in the same partition, so one query tells
 * leased mode both the user's leases and whether they were revoked. Written as single-item
 * conditional updates (no transactions), expiry checked on read and in every condition, so a
 * lease past its expiry that DynamoDB's TTL has not deleted yet is never renewed. Listing by
 * desktop (or of the whole site) scans the table: administration, not the request path.
 */
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { BadRequestError } from '../../core/errors.ts';
import type { Lease } from '../../core/leasing/leases.ts';
import type { LeaseFilter, LeasePage, LeaseStore } from '../../core/leasing/ports.ts';
import { batchWrite, type StateTable, ttlSeconds } from './state-table.ts';

const pk = (user: string) => `lease#${user.toLowerCase()}`;
const sk = (desktopId: number) => `desktop#${desktopId}`;
const REVOKED = 'revoked';

function toLease(item: Record<string, unknown>): Lease {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...lease } = item;
  return lease as unknown as Lease;
}

/** A listing's position: the key of the last lease handed out, as an opaque string. */
const encodeCursor = (key: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ pk: key.pk, sk: key.sk })).toString('base64url');

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    const { pk: p, sk: s } = (key ?? {}) as { pk?: unknown; sk?: unknown };
    if (typeof p === 'string' && p.startsWith('lease#') && typeof s === 'string')
      return { pk: p, sk: s };
  } catch {
    // reported below
  }
  throw new BadRequestError('invalid_cursor', 'cursor: is not a cursor this list handed out');
}

export class DynamoLeaseStore implements LeaseStore {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  /** The update that writes every field of a lease; `createdAt` kept when `keepCreated`. */
  #write(
    lease: Lease,
    keepCreated: boolean,
    condition: string | undefined,
    values: Record<string, unknown>,
  ) {
    const { createdAt, ...rest } = lease;
    const names: Record<string, string> = { '#ttl': 'ttl', '#createdAt': 'createdAt' };
    const all: Record<string, unknown> = {
      ...values,
      ':ttl': ttlSeconds(lease.expiresAt),
      ':createdAt': createdAt,
    };
    const sets = [
      '#ttl = :ttl',
      keepCreated
        ? '#createdAt = if_not_exists(#createdAt, :createdAt)'
        : '#createdAt = :createdAt',
    ];
    // Field placeholders carry a prefix: a field is called `launch`, like a condition value.
    for (const [k, v] of Object.entries(rest)) {
      names[`#f_${k}`] = k;
      all[`:f_${k}`] = v;
      sets.push(`#f_${k} = :f_${k}`);
    }
    return this.#table.doc.send(
      new UpdateCommand({
        TableName: this.#table.tableName,
        Key: { pk: pk(lease.user), sk: sk(lease.desktopId) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: all,
      }),
    );
  }

  async record(lease: Lease): Promise<void> {
    try {
      // Renew a lease that is still live at this launch (or create one).
      await this.#write(lease, true, 'attribute_not_exists(pk) OR expiresAt > :launch', {
        ':launch': lease.lastLaunchAt,
      });
    } catch (e: unknown) {
      if (!conditionFailed(e)) throw e;
      // It had expired: this launch starts a new lease, with its own creation time.
      await this.#write(lease, false, undefined, {});
    }
  }

  async restore(lease: Lease): Promise<boolean> {
    try {
      await this.#write(lease, false, 'attribute_not_exists(pk) OR expiresAt < :e', {
        ':e': lease.expiresAt,
      });
      return true;
    } catch (e: unknown) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  async extend(user: string, desktopId: number, expiresAt: number, now: number): Promise<boolean> {
    try {
      await this.#table.doc.send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: { pk: pk(user), sk: sk(desktopId) },
          UpdateExpression: 'SET expiresAt = :e, #ttl = :ttl',
          // Only a live lease: one past its expiry is gone even if DynamoDB still holds it.
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now AND expiresAt < :e',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':e': expiresAt,
            ':now': now,
            ':ttl': ttlSeconds(expiresAt),
          },
        }),
      );
      return true;
    } catch (e: unknown) {
      if (conditionFailed(e)) return false;
      throw e;
    }
  }

  /** Every item of one user's partition (leases and the revocation marker). */
  async #partition(user: string): Promise<Record<string, unknown>[]> {
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
    return items;
  }

  async forUser(user: string, now: number) {
    const items = await this.#partition(user);
    const revoked = items.some((i) => i.sk === REVOKED);
    const leases = items.filter((i) => String(i.sk).startsWith('desktop#')).map(toLease);
    return { leases: leases.filter((l) => l.expiresAt > now), revoked };
  }

  async list(
    filter: LeaseFilter,
    now: number,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<LeasePage> {
    const leases: Lease[] = [];
    let start = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const values: Record<string, unknown> = { ':desktop': 'desktop#' };
    const conditions: string[] = [];
    const state = filter.state ?? 'live';
    if (state !== 'all') {
      values[':now'] = now;
      conditions.push(state === 'live' ? 'expiresAt > :now' : 'expiresAt <= :now');
    }
    if (filter.desktopId !== undefined) {
      values[':id'] = filter.desktopId;
      conditions.push('desktopId = :id');
    }
    // One user: a query on the user's partition; else a scan (administration, not the request path).
    const byUser = filter.user !== undefined;
    if (!byUser) {
      values[':lease'] = 'lease#';
      conditions.push('begins_with(pk, :lease)', 'begins_with(sk, :desktop)');
    }
    do {
      const common = {
        TableName: this.#table.tableName,
        FilterExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
        ExclusiveStartKey: start,
      };
      const result = await this.#table.doc.send(
        byUser
          ? new QueryCommand({
              ...common,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :desktop)',
              ExpressionAttributeValues: { ...values, ':pk': pk(filter.user!) },
            })
          : new ScanCommand({ ...common, ExpressionAttributeValues: values }),
      );
      for (const item of result.Items ?? []) {
        leases.push(toLease(item));
        if (leases.length === page.limit) {
          // Full: continue after this item next time (unless it was the table's last).
          const last = result.Items?.at(-1) === item && !result.LastEvaluatedKey;
          return { leases, ...(last ? {} : { cursor: encodeCursor(item) }) };
        }
      }
      start = result.LastEvaluatedKey;
    } while (start);
    return { leases };
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

  async removeWhere(filter: Pick<LeaseFilter, 'user' | 'desktopId'>): Promise<number> {
    const keys: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...filter, state: 'all' }, 0, { limit: 1000, cursor });
      keys.push(...page.leases.map((l) => ({ pk: pk(l.user), sk: sk(l.desktopId) })));
      cursor = page.cursor;
    } while (cursor);
    await batchWrite(
      this.#table,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
    return keys.length;
  }

  async revoke(user: string, now: number): Promise<number> {
    // `now` stamps the revocation; every lease of the user goes, expired ones included.
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: { pk: pk(user), sk: REVOKED, user, revokedAt: now },
      }),
    );
    const leases = (await this.#partition(user)).filter((i) => String(i.sk).startsWith('desktop#'));
    await batchWrite(
      this.#table,
      leases.map((l) => ({ DeleteRequest: { Key: { pk: l.pk, sk: l.sk } } })),
    );
    return leases.length;
  }

  async unrevoke(user: string): Promise<void> {
    await this.#table.doc.send(
      new DeleteCommand({ TableName: this.#table.tableName, Key: { pk: pk(user), sk: REVOKED } }),
    );
  }
}

const conditionFailed = (e: unknown) =>
  (e as { name?: string }).name === 'ConditionalCheckFailedException';
