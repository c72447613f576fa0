/**
 * Sessions in the state table, keyed by the hash of their token (the token itself is never
 * stored). Expiry is checked on read; the `ttl` attribute lets DynamoDB clean up later.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/clock.ts';
import type { SessionListPosition, SessionStore } from '../../core/login/ports.ts';
import { isSessionLive, type Session, type SessionLimits } from '../../core/login/sessions.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const key = (tokenHash: string) => ({ pk: `session#${tokenHash}`, sk: 'session' });

/** Scan calls one listing request may make before it hands back a position to go on from. */
const MAX_SCANS_PER_PAGE = 10;

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

  /**
   * Scans the table for session items (sessions have no index of their own: a listing is an
   * occasional administrator's request, a login is not). A page may end early after
   * {@link MAX_SCANS_PER_PAGE} scan calls on a large table; `next` then goes on from there.
   */
  async list(page: { limit: number; after?: SessionListPosition; user?: string }) {
    const now = this.#clock.now();
    const user = page.user?.toLowerCase();
    const found: { session: Session; key: SessionListPosition }[] = [];
    let start: Record<string, unknown> | undefined = page.after ? { ...page.after } : undefined;
    for (let scans = 0; scans < MAX_SCANS_PER_PAGE; scans++) {
      const { Items, LastEvaluatedKey } = await this.#table.doc.send(
        new ScanCommand({
          TableName: this.#table.tableName,
          FilterExpression: 'begins_with(pk, :session) AND sk = :sk',
          ExpressionAttributeValues: { ':session': 'session#', ':sk': 'session' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of Items ?? []) {
        const { pk, sk, ttl: _ttl, ...rest } = item;
        const session = rest as Session;
        if (!isSessionLive(session, this.#limits, now)) continue;
        if (user !== undefined && session.user.toLowerCase() !== user) continue;
        found.push({ session, key: { pk: String(pk), sk: String(sk) } });
        // A full page: go on after its last session, wherever the scan page ended.
        if (found.length === page.limit) {
          return { sessions: found.map((f) => f.session), next: found.at(-1)!.key };
        }
      }
      start = LastEvaluatedKey;
      if (!start) return { sessions: found.map((f) => f.session), next: undefined };
    }
    return {
      sessions: found.map((f) => f.session),
      next: { pk: String(start!.pk), sk: String(start!.sk) },
    };
  }
}
