import { describe, expect, it } from 'vitest';
import {
  issueTicket,
  redeemTicket,
  TicketRefusedError,
} from '../../functions/core/gateways/html5.ts';
import {
  checkClaims,
  closeCodeFor,
  openTicket,
  sealTicket,
  type TicketClaims,
  ticketFromProtocols,
  ticketKey,
  ticketProtocol,
} from '../../functions/core/gateways/html5-ticket.ts';
import type { Html5SessionRecord, Html5SessionStore } from '../../functions/core/gateways/ports.ts';

const KEY = ticketKey('broker-and-gateway-secret-0123');
const OTHER_KEY = ticketKey('another-secret-entirely-456789');
const NOW = 1_800_000_000_000;

const claims = (over: Partial<TicketClaims> = {}): TicketClaims => ({
  id: '0123456789abcdef0123456789abcdef',
  user: 'alice',
  desktopId: 7,
  host: '10.0.2.11',
  port: 5900,
  protocol: 'vnc',
  clientIp: '203.0.113.9',
  issuedAt: NOW,
  expiresAt: NOW + 30_000,
  closeAt: NOW + 3_600_000,
  ...over,
});

/** The state table's behaviour, in memory: conditional first write, closing marks. */
function memoryStore(): Html5SessionStore & { records: Map<string, Html5SessionRecord> } {
  const records = new Map<string, Html5SessionRecord>();
  const closed = new Set<string>();
  const marks = new Map<string, number>();
  return {
    records,
    async redeem(record) {
      if (records.has(record.key)) return false;
      records.set(record.key, record);
      return true;
    },
    async revokedSince(user, desktopId, since) {
      return [marks.get(`${user}#${desktopId}`), marks.get(`${user}#*`)].some(
        (at) => at !== undefined && at >= since,
      );
    },
    async closeForUser(user, desktopId, now) {
      marks.set(`${user}#${desktopId ?? '*'}`, now);
      const live = [...records.values()].filter(
        (r) =>
          r.user === user &&
          !closed.has(r.key) &&
          (desktopId === undefined || r.desktopId === desktopId),
      );
      for (const r of live) closed.add(r.key);
      return live;
    },
  };
}

describe('HTML5 tickets', () => {
  it('open to the claims they were sealed with, and hide the desktop address', () => {
    const ticket = sealTicket(KEY, claims());

    const opened = openTicket(KEY, ticket);

    expect(opened).toEqual({ ok: true, claims: claims() });
    expect(ticket).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(ticket.slice(3), 'base64url').toString('latin1')).not.toContain('10.0.2');
  });

  it('refuse a ticket sealed with another secret, or altered in any byte', () => {
    const ticket = sealTicket(KEY, claims());
    const bytes = Buffer.from(ticket.slice(3), 'base64url');
    const altered = Array.from({ length: bytes.length }, (_, i) => {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x01;
      return `v1.${copy.toString('base64url')}`;
    });

    expect(openTicket(OTHER_KEY, ticket)).toEqual({ ok: false, reason: 'forged' });
    expect(altered.map((t) => openTicket(KEY, t).ok)).toEqual(altered.map(() => false));
  });

  it('refuse what is not a ticket at all', () => {
    for (const junk of [
      undefined,
      42,
      '',
      'v1.',
      'v2.abcd',
      'v1.a.b',
      'v1.!!!!',
      'v1.AAAA',
      'x'.repeat(3000),
    ]) {
      expect(openTicket(KEY, junk)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('are never sealed for longer than 60 seconds', () => {
    expect(() => sealTicket(KEY, claims({ expiresAt: NOW + 60_001 }))).toThrow(/at most 60 s/);
  });

  it('expire, and belong to one client address (IPv4-mapped IPv6 is the same address)', () => {
    const c = claims();
    expect(checkClaims(c, { now: NOW + 29_999, clientIp: '::ffff:203.0.113.9' })).toEqual({
      ok: true,
    });
    expect(checkClaims(c, { now: NOW + 30_000, clientIp: '203.0.113.9' })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(checkClaims(c, { now: NOW + 30_000, clientIp: '203.0.113.9', skewMs: 5_000 })).toEqual({
      ok: true,
    });
    expect(checkClaims(c, { now: NOW, clientIp: '203.0.113.10' })).toEqual({
      ok: false,
      reason: 'wrong_address',
    });
  });

  it('travel as a WebSocket subprotocol', () => {
    const ticket = sealTicket(KEY, claims());
    expect(ticketFromProtocols(['binary', ticketProtocol(ticket)])).toBe(ticket);
    expect(ticketFromProtocols(['binary'])).toBeUndefined();
  });

  it('map each refusal to an application close code', () => {
    expect(
      (['malformed', 'forged', 'expired', 'wrong_address', 'replayed', 'revoked'] as const).map(
        closeCodeFor,
      ),
    ).toEqual([4401, 4401, 4408, 4403, 4409, 4409]);
  });
});

describe('redeeming', () => {
  const issue = (store: Html5SessionStore, now = NOW) => {
    const { ticket } = issueTicket(
      KEY,
      {
        user: 'alice',
        desktop: { id: 7, address: '10.0.2.11' },
        protocol: 'vnc',
        port: 5900,
        clientIp: '203.0.113.9',
        closeAt: NOW + 3_600_000,
      },
      now,
    );
    const redeem = (at: number, clientIp = '203.0.113.9') =>
      redeemTicket(
        { ticketKey: KEY, sessions: store, clock: { now: () => at } },
        { ticket, clientIp, gateway: 'gw1' },
      );
    return { ticket, redeem };
  };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'redeemed',
      (e: unknown) => (e instanceof TicketRefusedError ? e.reason : String(e)),
    );

  it('answers where to connect, once', async () => {
    const store = memoryStore();
    const { redeem } = issue(store);

    const first = await redeem(NOW + 1_000);
    const second = await refusal(redeem(NOW + 2_000));

    expect(first).toMatchObject({
      user: 'alice',
      desktopId: 7,
      desktopHost: '10.0.2.11',
      desktopPort: 5900,
      protocol: 'vnc',
      closeAt: NOW + 3_600_000,
    });
    expect(second).toBe('replayed');
    expect([...store.records.values()]).toMatchObject([{ gateway: 'gw1', user: 'alice' }]);
  });

  it('refuses an expired ticket and one from another address without recording it', async () => {
    const store = memoryStore();
    const { redeem } = issue(store);

    expect(await refusal(redeem(NOW + 30_000))).toBe('expired');
    expect(await refusal(redeem(NOW + 1_000, '127.0.0.2'))).toBe('wrong_address');
    expect(store.records.size).toBe(0);
    expect(await refusal(redeem(NOW + 1_000))).toBe('redeemed');
  });

  it('refuses a ticket whose desktop was released after it was issued', async () => {
    const store = memoryStore();
    const { redeem } = issue(store);
    await store.closeForUser('alice', 7, NOW + 500);

    expect(await refusal(redeem(NOW + 1_000))).toBe('revoked');
    const later = issue(store, NOW + 2_000);
    expect(await refusal(later.redeem(NOW + 3_000))).toBe('redeemed');
  });

  it('shows the refusal as 403 ticket_<reason>', async () => {
    const e = new TicketRefusedError('replayed');
    expect({ status: e.status, code: e.code, details: e.details }).toEqual({
      status: 403,
      code: 'ticket_replayed',
      details: { reason: 'replayed' },
    });
  });
});
