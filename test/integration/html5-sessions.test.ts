/**
 * Redeemed HTML5 tickets in the state table, on the DynamoDB stand-in, through the real AWS
 * SDK: single use holds across brokers (separate clients racing on one table), closing marks
 * sessions closed and refuses tickets issued before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoHtml5SessionStore } from '../../functions/adapters/state/html5-session-store.ts';
import {
  createStateTable,
  ensureStateTable,
  type StateTable,
} from '../../functions/adapters/state/state-table.ts';
import {
  issueTicket,
  redeemTicket,
  TicketRefusedError,
} from '../../functions/core/gateways/html5.ts';
import { ticketKey } from '../../functions/core/gateways/html5-ticket.ts';
import type { Html5SessionRecord } from '../../functions/core/gateways/ports.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';

const NOW = Date.now();
const KEY = ticketKey('state-table-test-secret-0123');

let dynamo: EmbeddedDynamo;
let tables: StateTable[];

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  // Two brokers: two clients of one table.
  tables = [0, 1].map(() =>
    createStateTable({ tableName: 'html5-test', region: 'us-east-1', endpoint: dynamo.endpoint }),
  );
  await ensureStateTable(tables[0]!);
}, 30_000);

afterAll(async () => {
  for (const t of tables ?? []) t.raw.destroy();
  await dynamo?.close();
});

const record = (over: Partial<Html5SessionRecord> = {}): Html5SessionRecord => ({
  key: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  user: 'Tess',
  desktopId: 3,
  gateway: 'gw1',
  clientIp: '127.0.0.1',
  desktopHost: '10.0.0.3',
  desktopPort: 5900,
  redeemedAt: NOW,
  closeAt: NOW + 3_600_000,
  ticketExpiresAt: NOW + 30_000,
  ...over,
});

describe('HTML5 sessions in the state table', () => {
  it('a ticket is redeemed once, however many brokers race for it', async () => {
    const stores = tables.map((t) => new DynamoHtml5SessionStore(t));
    const r = record({ key: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', user: 'racer' });

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.redeem({ ...r, gateway: `gw${i}` })),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('closing returns the live sessions once, and refuses tickets issued before it', async () => {
    const [a, b] = tables.map((t) => new DynamoHtml5SessionStore(t));
    await a!.redeem(record({ key: 'cccccccccccccccccccccccccccccccc', desktopId: 4 }));
    await a!.redeem(record({ key: 'dddddddddddddddddddddddddddddddd', desktopId: 5 }));

    const first = await a!.closeForUser('tess', 4, NOW + 1_000);
    const again = await b!.closeForUser('TESS', 4, NOW + 2_000);

    expect(first.map((s) => s.key)).toEqual(['cccccccccccccccccccccccccccccccc']);
    expect(first[0]).toMatchObject({ gateway: 'gw1', desktopPort: 5900 });
    expect(again).toEqual([]);
    expect(await b!.revokedSince('tess', 4, NOW + 500)).toBe(true);
    expect(await b!.revokedSince('tess', 4, NOW + 2_500)).toBe(false);
    expect(await b!.revokedSince('tess', 5, NOW)).toBe(false);
    const all = await b!.closeForUser('tess', undefined, NOW + 3_000);
    expect(all.map((s) => s.key)).toEqual(['dddddddddddddddddddddddddddddddd']);
    expect(await a!.revokedSince('tess', 5, NOW + 2_999)).toBe(true);
  });

  it('redeeming through the state table: once, then replayed', async () => {
    const store = new DynamoHtml5SessionStore(tables[1]!);
    const { ticket } = issueTicket(
      KEY,
      {
        user: 'uma',
        desktop: { id: 9, address: '10.0.0.9' },
        protocol: 'vnc',
        port: 5901,
        clientIp: '127.0.0.1',
        closeAt: NOW + 60_000,
      },
      NOW,
    );
    const redeem = () =>
      redeemTicket(
        { ticketKey: KEY, sessions: store, clock: { now: () => NOW + 100 } },
        { ticket, clientIp: '127.0.0.1', gateway: 'gw1' },
      );

    expect(await redeem()).toMatchObject({ desktopHost: '10.0.0.9', desktopPort: 5901 });
    await expect(redeem()).rejects.toBeInstanceOf(TicketRefusedError);
  });
});
