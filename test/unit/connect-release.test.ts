/**
 * Connect, release and sign-out (core/desktops/desktops.ts) over in-memory ports: the claim
 * and its refusals, the path (direct or a gateway forward, on the desktop's own port), the
 * launch file, the lease of a hard-assigned desktop, leased mode, and what release and
 * logout give back and close.
 */
import { describe, expect, it } from 'vitest';
import { connect, listOffers, logout, release } from '../../functions/core/desktops/desktops.ts';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { startSession } from '../../functions/core/login/login.ts';
import type { Session } from '../../functions/core/login/sessions.ts';
import { type MemoryBroker, memoryBroker } from '../helpers/memory-broker.ts';

const SITE = {
  gateways: [
    {
      name: 'gw1',
      address: '10.9.0.1',
      publicAddress: 'gw1.example.org',
      controlUrl: 'http://10.9.0.1:9443',
    },
  ],
  protocolPlans: [
    {
      name: 'vnc-rdp',
      protocols: [
        { protocol: 'vnc' as const, port: 5900 },
        { protocol: 'rdp' as const, port: 3389 },
      ],
    },
    { name: 'via-gw', protocols: [{ protocol: 'vnc' as const, port: 5900, gateway: 'gw1' }] },
  ],
  pools: [
    {
      name: 'displays',
      desktops: [
        { name: 'host-1', address: '10.0.0.1', ports: { vnc: 5901 } },
        { name: 'host-2', address: '10.0.0.1', ports: { vnc: 5902 } },
      ],
    },
    {
      name: 'assigned',
      desktops: [
        { name: 'ann-ws', address: '10.0.1.1', assignedTo: 'ann', ports: { vnc: 5907 } },
        { name: 'bob-ws', address: '10.0.1.2', assignedTo: 'bob' },
      ],
    },
    { name: 'nat', desktops: [{ name: 'nat-1', address: '10.0.2.1', ports: { vnc: 15900 } }] },
  ],
  policies: [
    {
      name: 'p',
      entries: [
        { pool: 'assigned', protocolPlan: 'vnc-rdp' },
        { pool: 'displays', offer: 2, protocolPlan: 'vnc-rdp' },
        { pool: 'nat', protocolPlan: 'via-gw' },
      ],
    },
  ],
};

async function sessionFor(b: MemoryBroker, user: string): Promise<Session> {
  const { session } = await startSession(b.loginDeps, {
    user,
    authServer: 'local',
    groups: [],
    role: 'User',
    isAdmin: false,
    policy: 'p',
    clientIp: '192.0.2.7',
    clientId: 1,
    loginGateway: null,
    locations: [],
    mode: 'normal',
  });
  return session;
}

const idOf = (b: MemoryBroker, name: string) => b.site.desktop(name).id;

describe('connect', () => {
  it('connects directly on the desktop’s own port, with a launch file for it', async () => {
    const b = memoryBroker(SITE);
    const ann = await sessionFor(b, 'ann');

    const offers = await listOffers(b.desktopDeps, ann);
    const answer = await connect(b.desktopDeps, ann, idOf(b, 'host-2'));

    expect(offers.offers.map((o) => [o.name, o.protocols[0]!.port])).toEqual([
      ['ann-ws', 5907],
      ['host-1', 5901],
      ['host-2', 5902],
      ['nat-1', 15900],
    ]);
    expect(answer).toMatchObject({ name: 'host-2', protocol: 'vnc', host: '10.0.0.1', port: 5902 });
    expect(answer.launchFile?.content).toBe('[connection]\nhost=10.0.0.1\nport=5902\n');
    expect(b.site.desktop('host-2').heldBy).toBe('ann');
    expect(b.site.log.at(-1)).toMatchObject({ event: 'connect', detail: 'vnc direct' });
  });

  it('keeps the plan’s port for a protocol the desktop names no port for', async () => {
    const b = memoryBroker(SITE);
    const answer = await connect(b.desktopDeps, await sessionFor(b, 'ann'), idOf(b, 'host-1'), {
      protocol: 'rdp',
    });
    expect(answer).toMatchObject({ protocol: 'rdp', port: 3389 });
    expect(answer.launchFile?.content).toContain('full address:s:10.0.0.1:3389');
  });

  it('opens a gateway forward to the desktop’s own port', async () => {
    const b = memoryBroker(SITE);
    const answer = await connect(b.desktopDeps, await sessionFor(b, 'ann'), idOf(b, 'nat-1'));

    expect(answer).toMatchObject({ via: 'gateway', gateway: 'gw1', host: 'gw1.example.org' });
    expect(b.forwards.forwards).toEqual([
      expect.objectContaining({
        gateway: 'gw1',
        desktopHost: '10.0.2.1',
        desktopPort: 15900,
        listenPort: answer.port,
        clientIp: '192.0.2.7',
        user: 'ann',
      }),
    ]);
  });

  it('leases a hard-assigned desktop with its own ports, never a pooled one', async () => {
    const b = memoryBroker(SITE);
    const ann = await sessionFor(b, 'ann');
    await connect(b.desktopDeps, ann, idOf(b, 'ann-ws'));
    await connect(b.desktopDeps, ann, idOf(b, 'host-1'));

    expect([...b.leases.leases.values()]).toEqual([
      expect.objectContaining({
        user: 'ann',
        desktopName: 'ann-ws',
        pool: 'assigned',
        launch: {
          protocol: 'vnc',
          protocols: [
            { protocol: 'vnc', port: 5907 },
            { protocol: 'rdp', port: 3389 },
          ],
        },
      }),
    ]);
  });

  it('gives another free desktop of the pool when the one offered was just taken', async () => {
    const b = memoryBroker(SITE);
    await connect(b.desktopDeps, await sessionFor(b, 'ann'), idOf(b, 'host-1'));

    const answer = await connect(b.desktopDeps, await sessionFor(b, 'cat'), idOf(b, 'host-1'));

    expect(answer.name).toBe('host-2');
  });

  it('refuses an unknown desktop, someone else’s, a protocol not offered, an exhausted pool', async () => {
    const b = memoryBroker(SITE);
    const cat = await sessionFor(b, 'cat');
    await connect(b.desktopDeps, await sessionFor(b, 'ann'), idOf(b, 'nat-1'));

    await expect(connect(b.desktopDeps, cat, 999)).rejects.toMatchObject({
      status: 404,
      code: 'unknown_desktop',
    });
    await expect(connect(b.desktopDeps, cat, idOf(b, 'bob-ws'))).rejects.toMatchObject({
      status: 403,
      code: 'not_your_desktop',
    });
    await expect(
      connect(b.desktopDeps, cat, idOf(b, 'host-1'), { protocol: 'ssh' }),
    ).rejects.toMatchObject({ status: 400, code: 'unsupported_protocol' });
    await expect(connect(b.desktopDeps, cat, idOf(b, 'nat-1'))).rejects.toMatchObject({
      status: 409,
      code: 'no_desktop_available',
    });
  });

  it('re-launches a leased desktop from its lease when the database does not answer', async () => {
    const b = memoryBroker(SITE);
    const ann = await sessionFor(b, 'ann');
    await connect(b.desktopDeps, ann, idOf(b, 'ann-ws'));
    b.site.failNext(new DatabaseUnavailableError());

    const answer = await connect(b.desktopDeps, ann, idOf(b, 'ann-ws'));

    expect(answer).toMatchObject({ mode: 'leased', host: '10.0.1.1', port: 5907 });
    expect(b.outbox.items.map((i) => i.item)).toEqual([
      expect.objectContaining({
        kind: 'log',
        entry: expect.objectContaining({ event: 'connect', detail: 'vnc direct (leased)' }),
      }),
    ]);
    // The next request finds the database back.
    expect(await connect(b.desktopDeps, ann, idOf(b, 'host-1'))).toMatchObject({ mode: 'normal' });
  });
});

describe('release and logout', () => {
  it('gives a desktop back, closes its forwards, and refuses one the user does not hold', async () => {
    const b = memoryBroker(SITE);
    const ann = await sessionFor(b, 'ann');
    await connect(b.desktopDeps, ann, idOf(b, 'nat-1'));

    await release(b.desktopDeps, ann, idOf(b, 'nat-1'));

    expect(b.site.desktop('nat-1').heldBy).toBeNull();
    expect(b.forwards.forwards.every((f) => f.closed)).toBe(true);
    expect(b.control.closed).toEqual([{ gateway: 'gw1', key: expect.any(String) }]);
    await expect(release(b.desktopDeps, ann, idOf(b, 'nat-1'))).rejects.toMatchObject({
      status: 404,
      code: 'not_held',
    });
  });

  it('at logout ends the session, releases idle on_logout desktops, closes every forward', async () => {
    const b = memoryBroker(SITE);
    const ann = await sessionFor(b, 'ann');
    await connect(b.desktopDeps, ann, idOf(b, 'host-1'));
    await connect(b.desktopDeps, ann, idOf(b, 'nat-1'));
    b.site.desktop('host-1').sessionState = 'connected'; // its agent says someone is on it

    await logout({ ...b.desktopDeps, sessions: b.sessions }, ann, 'the-token');

    expect(b.site.desktop('host-1').heldBy).toBe('ann');
    expect(b.site.desktop('nat-1').heldBy).toBeNull();
    expect(b.forwards.forwards.every((f) => f.closed)).toBe(true);
    expect(b.site.log.map((r) => r.event).slice(-2)).toEqual(['release', 'logout']);
  });
});
