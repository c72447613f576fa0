/**
 * Redeemed HTML5 tickets in the state table, one partition per user (`html5#<user>`):
 * - `t#<ticket id>`: the redeemed ticket, written with `attribute_not_exists`, so a ticket is
 *   redeemed once across every broker; it stays (marked `closed` when its bridge is closed)
 *   until the session ends, so a replay is refused for as long as the ticket could be valid;
 * - `revoked#<desktop id>` / `revoked#*`: when the user's browser connections to a desktop (or
 *   to all) were last closed; tickets issued before that are refused.
 * The `ttl` attribute lets DynamoDB clean up.
 */
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TICKET_MAX_TTL_MS } from '../../core/gateways/html5-ticket.ts';
import type { Html5SessionRecord, Html5SessionStore } from '../../core/gateways/ports.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const pk = (user: string) => `html5#${user.toLowerCase()}`;
const ALL = '*';

function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string }).name === 'ConditionalCheckFailedException';
}

export class DynamoHtml5SessionStore implements Html5SessionStore {
  readonly #table: StateTable;

  constructor(table: StateTable) {
    this.#table = table;
  }

  async redeem(record: Html5SessionRecord): Promise<boolean> {
    try {
      await this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.tableName,
          Item: {
            pk: pk(record.user),
            sk: `t#${record.key}`,
            ...record,
            closed: false,
            ttl: ttlSeconds(Math.max(record.closeAt, record.ticketExpiresAt)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e: unknown) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async revokedSince(user: string, desktopId: number, since: number): Promise<boolean> {
    const marks = await this.#query(user, 'revoked#');
    return marks.some(
      (m) =>
        (m.sk === `revoked#${desktopId}` || m.sk === `revoked#${ALL}`) &&
        typeof m.at === 'number' &&
        m.at >= since,
    );
  }

  async closeForUser(
    user: string,
    desktopId: number | undefined,
    now: number,
  ): Promise<Html5SessionRecord[]> {
    // The mark first: a ticket redeemed from now on sees it (see redeemTicket).
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: {
          pk: pk(user),
          sk: `revoked#${desktopId ?? ALL}`,
          at: now,
          ttl: ttlSeconds(now + TICKET_MAX_TTL_MS),
        },
      }),
    );
    const live = (await this.#query(user, 't#')).filter(
      (i) =>
        i.closed !== true &&
        Number(i.closeAt) > now &&
        (desktopId === undefined || i.desktopId === desktopId),
    );
    const closed: Html5SessionRecord[] = [];
    for (const item of live) {
      try {
        await this.#table.doc.send(
          new UpdateCommand({
            TableName: this.#table.tableName,
            Key: { pk: item.pk, sk: item.sk },
            UpdateExpression: 'SET closed = :t',
            ConditionExpression: 'attribute_exists(pk) AND closed = :f',
            ExpressionAttributeValues: { ':t': true, ':f': false },
          }),
        );
      } catch (e: unknown) {
        // Closed meanwhile by another broker: that one tells the gateway.
        if (isConditionFailure(e)) continue;
        throw e;
      }
      const { pk: _pk, sk: _sk, ttl: _ttl, closed: _closed, ...record } = item;
      closed.push(record as unknown as Html5SessionRecord);
    }
    return closed;
  }

  async #query(user: string, prefix: string): Promise<Record<string, unknown>[]> {
    // Expired items (DynamoDB deletes them "within a few days") need no filter here: a closed
    // session's closeAt and an old mark's time are in the past, which the callers check.
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new QueryCommand({
          TableName: this.#table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk(user), ':prefix': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
