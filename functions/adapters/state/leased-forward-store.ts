/**
 * Gateway forwards opened in leased mode: kept in the state table (so logout can close them
 * and a restarting gateway can re-open them) and put in the outbox, to be recorded in the
 * site database's gateway_forward table when it is back.
 */
import { DeleteCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ForwardRecord, ForwardStore } from '../../core/gateways/ports.ts';
import type { Outbox } from '../../core/leasing/ports.ts';
import { type StateTable, ttlSeconds } from './state-table.ts';

const pk = (user: string) => `lforward#${user.toLowerCase()}`;

export class LeasedForwardStore implements ForwardStore {
  readonly #table: StateTable;
  readonly #outbox: Outbox;
  readonly #now: () => number;

  constructor(table: StateTable, outbox: Outbox, now: () => number) {
    this.#table = table;
    this.#outbox = outbox;
    this.#now = now;
  }

  async record(forwards: readonly ForwardRecord[]): Promise<void> {
    for (const f of forwards) {
      await this.#table.doc.send(
        new PutCommand({
          TableName: this.#table.tableName,
          Item: { pk: pk(f.user), sk: `${f.gateway}#${f.key}`, ...f, ttl: ttlSeconds(f.expiresAt) },
        }),
      );
    }
    const at = this.#now();
    await this.#outbox.append(
      forwards.map((forward) => ({ kind: 'forward' as const, forward, at })),
    );
  }

  async closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]> {
    const { Items } = await this.#table.doc.send(
      new QueryCommand({
        TableName: this.#table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk(user) },
        ConsistentRead: true,
      }),
    );
    const closed = (Items ?? []).filter(
      (i) => desktopId === undefined || i.desktopId === desktopId,
    );
    for (const item of closed) {
      await this.#table.doc.send(
        new DeleteCommand({ TableName: this.#table.tableName, Key: { pk: item.pk, sk: item.sk } }),
      );
    }
    await this.#outbox.append([{ kind: 'forwards_closed', user, desktopId, at: this.#now() }]);
    return closed.map(({ pk: _pk, sk: _sk, ttl: _ttl, ...f }) => f as unknown as ForwardRecord);
  }

  async liveForGateway(gateway: string, now: number): Promise<ForwardRecord[]> {
    const out: ForwardRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#table.doc.send(
        new ScanCommand({
          TableName: this.#table.tableName,
          FilterExpression: 'begins_with(pk, :p) AND gateway = :g AND expiresAt > :now',
          ExpressionAttributeValues: { ':p': 'lforward#', ':g': gateway, ':now': now },
          ExclusiveStartKey: start,
        }),
      );
      out.push(
        ...(page.Items ?? []).map(
          ({ pk: _pk, sk: _sk, ttl: _ttl, ...f }) => f as unknown as ForwardRecord,
        ),
      );
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
