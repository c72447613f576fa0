/**
 * Replay protection of gateway-signed calls, shared by every broker and Lambda instance: each
 * verified nonce is written to the state table with a conditional put, so the second use of
 * a nonce fails the condition wherever it arrives. Items expire through the `ttl` attribute;
 * an expired item that DynamoDB has not deleted yet counts as absent (the condition checks
 * its time), and a request old enough for that is refused as stale anyway.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { NonceStore } from '../../core/gateways/ports.ts';
import { type StateTable, TTL_ATTRIBUTE, ttlSeconds } from './state-table.ts';

export class DynamoNonceStore implements NonceStore {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  async remember(nonce: string, until: number, now: number): Promise<'new' | 'seen'> {
    try {
      await this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.tableName,
          Item: { pk: `nonce#${nonce}`, sk: 'nonce', [TTL_ATTRIBUTE]: ttlSeconds(until) },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': Math.floor(now / 1000) },
        }),
      );
      return 'new';
    } catch (e: unknown) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return 'seen';
      throw e;
    }
  }
}
