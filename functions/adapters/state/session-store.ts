/**
 * Sessions in the state table, keyed by the hash of their token (the token itself is never
 * stored). Expiry is checked on read; the `ttl` attribute lets DynamoDB clean up later.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/clock.ts';
import type { SessionStore } from '../../core/login/ports.ts';
import { isSessionLive, type Session, type SessionLimits } from '../../core/login/sessions.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const key = (tokenHash: string) => ({ pk: `session#${tokenHash}`, sk: 'session' });

export class DynamoSessionStore implements SessionStore {
  readonly #table: StateTable;
  readonly #limits: SessionLimits;
  readonly #clock: Clock;

  constructor(table: StateTable, limits: SessionLimits, clock: Clock) {
    this.#table = table;
    this.#limits = limits;
    this.#clock = clock;
  }

  async put(session: Session): Promise<void> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: { ...key(session.tokenHash), ...session, ttl: ttlSeconds(session.expiresAt) },
      }),
    );
  }

  async get(tokenHash: string): Promise<Session | undefined> {
    const { Item } = await this.#table.doc.send(
      new GetCommand({
        TableName: this.#table.tableName,
        Key: key(tokenHash),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ttl: _ttl, ...session } = Item;
    const s = session as Session;
    return isSessionLive(s, this.#limits, this.#clock.now()) ? s : undefined;
  }

  async touch(tokenHash: string, lastSeenAt: number): Promise<void> {
    await this.#table.doc
      .send(
        new UpdateCommand({
          TableName: this.#table.tableName,
          Key: key(tokenHash),
          UpdateExpression: 'SET lastSeenAt = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': lastSeenAt },
        }),
      )
      .catch((e: unknown) => {
        // The session was deleted (logout) between read and touch: nothing to extend.
        if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
      });
  }

  async delete(tokenHash: string): Promise<void> {
    await this.#table.doc.send(
      new DeleteCommand({ TableName: this.#table.tableName, Key: key(tokenHash) }),
    );
  }
}
