/**
 * Failed-login counters in the state table, per account and per source address, so every
 * broker (and every Lambda) sees the same count. A key locks when it reaches the limit
 * within the lockout window; failures older than the window are forgotten.
 */
import { BatchGetCommand, DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ThrottleStore } from '../../core/login/ports.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const key = (k: string) => ({ pk: `throttle#${k}`, sk: 'throttle' });

export class DynamoThrottleStore implements ThrottleStore {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  async check(keys: readonly string[], now: number) {
    const { Responses } = await this.#table.doc.send(
      new BatchGetCommand({
        RequestItems: { [this.#table.tableName]: { Keys: keys.map(key), ConsistentRead: true } },
      }),
    );
    const items = Responses?.[this.#table.tableName] ?? [];
    const until = Math.max(0, ...items.map((i) => Number(i.lockedUntil ?? 0)));
    const failing = items
      .filter((i) => Number(i.failures ?? 0) > 0)
      .map((i) => String(i.pk).slice('throttle#'.length));
    return { lockedSeconds: until > now ? (until - now) / 1000 : 0, failing };
  }

  async recordFailure(
    keys: readonly string[],
    now: number,
    limits: { maxFailures: number; lockoutSeconds: number },
  ) {
    const windowStart = now - limits.lockoutSeconds * 1000;
    await Promise.all(
      keys.map(async (k) => {
        const common = {
          TableName: this.#table.tableName,
          Key: key(k),
          ReturnValues: 'ALL_NEW' as const,
        };
        let failures: number;
        try {
          const { Attributes } = await this.#table.doc.send(
            new UpdateCommand({
              ...common,
              UpdateExpression: 'ADD failures :one SET #ttl = :ttl',
              ConditionExpression: 'firstAt > :windowStart',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: {
                ':one': 1,
                ':windowStart': windowStart,
                ':ttl': ttlSeconds(now + limits.lockoutSeconds * 2000),
              },
            }),
          );
          failures = Number(Attributes?.failures);
        } catch (e: unknown) {
          if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
          // No count yet, or an old one: start a new window.
          await this.#table.doc.send(
            new UpdateCommand({
              ...common,
              UpdateExpression: 'SET failures = :one, firstAt = :now, #ttl = :ttl',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: {
                ':one': 1,
                ':now': now,
                ':ttl': ttlSeconds(now + limits.lockoutSeconds * 2000),
              },
            }),
          );
          failures = 1;
        }
        if (failures >= limits.maxFailures) {
          await this.#table.doc.send(
            new UpdateCommand({
              TableName: this.#table.tableName,
              Key: key(k),
              UpdateExpression: 'SET lockedUntil = :until, failures = :zero, firstAt = :now',
              ExpressionAttributeValues: {
                ':until': now + limits.lockoutSeconds * 1000,
                ':zero': 0,
                ':now': now,
              },
            }),
          );
        }
      }),
    );
  }

  async clear(k: string, now: number): Promise<void> {
    await this.#table.doc
      .send(
        new DeleteCommand({
          TableName: this.#table.tableName,
          Key: key(k),
          // A locked key stays locked until its time is up.
          ConditionExpression: 'attribute_not_exists(lockedUntil) OR lockedUntil < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      )
      .catch((e: unknown) => {
        if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
      });
  }
}
