/**
 * Agent events (core/agents/events.ts) over in-memory ports: session states, releases per the
 * policy's rule, gateway forwards closed on release, leased mode, and lease extension only
 * for a live session of the desktop's assigned user (Citrix: "Leases for long-running active
 * or disconnected ... sessions are extended"), never of an expired lease.
 */
import { describe, expect, it } from 'vitest';
import { handleAgentEvent } from '../../functions/core/agents/events.ts';
import type { AgentEventKind } from '../../functions/core/agents/ports.ts';
import { connect } from '../../functions/core/desktops/desktops.ts';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { login } from '../../functions/core/login/login.ts';
import { type MemoryBroker, memoryBroker } from '../helpers/memory-broker.ts';
import { MemoryAccountStore } from '../helpers/memory-login.ts';

const DAY = 86_400_000;
const KEYS = { ann: 'agent-key-of-ann-ws-0001', shared: 'agent-key-of-shared-1-01' };

const SITE = {
  authServers: [{ name: 'local', type: 'local' as const }],
  roles: [{ name: 'User' }],
  gateways: [
    {
      name: 'gw1',
      address: '10.9.0.1',
      publicAddress: 'gw1.example.org',
      controlUrl: 'http://10.9.0.1:9443',
    },
  ],
  protocolPlans: [
    { name: 'rdp', protocols: [{ protocol: 'rdp' as const, port: 3389 }] },
    { name: 'via-gw', protocols: [{ protocol: 'rdp' as const, port: 3389, gateway: 'gw1' }] },
  ],
  pools: [
    {
      name: 'assigned',
      desktops: [{ name: 'ann-ws', address: '10.0.0.1', assignedTo: 'ann', agentKey: KEYS.ann }],
    },
    {
      name: 'shared',
      desktops: [{ name: 'shared-1', address: '10.0.1.1', agentKey: KEYS.shared }],
    },
  ],
  policies: [
    {
      name: 'p',
      entries: [
        { pool: 'assigned', protocolPlan: 'rdp' },
        {
          pool: 'shared',
          protocolPlan: 'via-gw',
          release: 'on_disconnect' as const,
          releaseDelaySeconds: 60,
        },
      ],
    },
  ],
  assignments: [{ group: '*', role: 'User', policy: 'p' }],
};

const brokerWithAnn = () =>
  memoryBroker(SITE, {
    accounts: [
      MemoryAccountStore.account('ann', 'ann-password'),
      MemoryAccountStore.account('bob', 'bob-password'),
    ],
  });

/** Signs `user` in and connects to `desktop`. */
async function launch(b: MemoryBroker, user: string, desktop: string) {
  const { session } = await login(b.loginDeps, {
    username: user,
    password: `${user}-password`,
    client: { ip: '10.1.1.1', name: 'laptop', loginGateway: null, headers: {} },
    reported: {},
  });
  return connect(b.desktopDeps, session, b.site.desktop(desktop).id);
}

const event = (b: MemoryBroker, key: string, kind: AgentEventKind, user?: string) =>
  handleAgentEvent(b.agentDeps, key, { event: kind, user });

const annLease = (b: MemoryBroker) => b.leases.leases.get(`ann#${b.site.desktop('ann-ws').id}`)!;

describe('agent events and lease extension', () => {
  it('does not extend a lease on a heartbeat with no session open', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    const before = annLease(b).expiresAt;

    b.clock.advance(2 * DAY);
    const result = await event(b, KEYS.ann, 'heartbeat');

    expect(result.sessionState).toBe('none');
    expect(annLease(b).expiresAt).toBe(before);
  });

  it('extends the lease while the assigned user’s session runs, connected or disconnected', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    const launched = annLease(b).expiresAt;

    b.clock.advance(2 * DAY);
    await event(b, KEYS.ann, 'login', 'ann');
    const afterLogin = annLease(b).expiresAt;
    b.clock.advance(2 * 3_600_000);
    await event(b, KEYS.ann, 'disconnect');
    const afterDisconnect = annLease(b).expiresAt;
    b.clock.advance(2 * 3_600_000);
    await event(b, KEYS.ann, 'heartbeat');
    const afterHeartbeat = annLease(b).expiresAt;

    expect(afterLogin - launched).toBeGreaterThanOrEqual(2 * DAY);
    expect(afterDisconnect - afterLogin).toBeGreaterThanOrEqual(2 * 3_600_000);
    expect(afterHeartbeat - afterDisconnect).toBeGreaterThanOrEqual(2 * 3_600_000);
  });

  it('stops extending once the session ends', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    await event(b, KEYS.ann, 'login', 'ann');
    b.clock.advance(2 * 3_600_000);
    await event(b, KEYS.ann, 'logout');
    const atLogout = annLease(b).expiresAt;

    b.clock.advance(2 * 3_600_000);
    await event(b, KEYS.ann, 'heartbeat');

    expect(annLease(b).expiresAt).toBe(atLogout);
  });

  it('does not extend the assigned user’s lease for somebody else’s session', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    await launch(b, 'ann', 'ann-ws'); // held by ann
    const before = annLease(b).expiresAt;
    b.site.desktop('ann-ws').heldBy = null;

    b.clock.advance(2 * DAY);
    await event(b, KEYS.ann, 'login', 'mallory');

    expect(annLease(b).expiresAt).toBe(before);
  });

  it('never revives an expired lease that the table still holds', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    const expired = annLease(b);

    b.clock.advance(15 * DAY);
    await event(b, KEYS.ann, 'login', 'ann');
    await event(b, KEYS.ann, 'heartbeat');

    expect(annLease(b)).toEqual(expired);
    expect((await b.leases.forUser('ann', b.clock.now())).leases).toEqual([]);
  });

  it('in leased mode, extends on events that show a session, not on heartbeats', async () => {
    const b = brokerWithAnn();
    await launch(b, 'ann', 'ann-ws');
    await b.mirror.putAgentKeys([
      {
        keyHash: b.site.desktop('ann-ws').agentKeyHash!,
        ...{ id: b.site.desktop('ann-ws').id, name: 'ann-ws', address: '10.0.0.1' },
        heldBy: 'ann',
        assignedUser: 'ann',
      },
    ]);
    const before = annLease(b).expiresAt;
    b.site.failNext(new DatabaseUnavailableError(), 2);

    b.clock.advance(2 * DAY);
    await event(b, KEYS.ann, 'heartbeat');
    const afterHeartbeat = annLease(b).expiresAt;
    await event(b, KEYS.ann, 'reconnect');

    expect(afterHeartbeat).toBe(before);
    expect(annLease(b).expiresAt - before).toBeGreaterThanOrEqual(2 * DAY);
    expect(b.outbox.items.map((i) => i.item.kind)).toEqual(['agent_event', 'agent_event']);
  });
});

describe('agent events', () => {
  it('refuses a missing or unknown agent key, and a login without a user', async () => {
    const b = brokerWithAnn();
    await expect(
      handleAgentEvent(b.agentDeps, undefined, { event: 'heartbeat' }),
    ).rejects.toMatchObject({
      status: 401,
      code: 'unknown_agent',
    });
    await expect(event(b, 'no-such-agent-key-000', 'heartbeat')).rejects.toMatchObject({
      status: 401,
      code: 'unknown_agent',
    });
    await expect(event(b, KEYS.ann, 'login')).rejects.toMatchObject({
      status: 400,
      code: 'user_required',
    });
  });

  it('releases an on_disconnect desktop after its delay, keeping it on a reconnect in time', async () => {
    const b = brokerWithAnn();
    const connection = await launch(b, 'bob', 'shared-1');
    expect(connection.via).toBe('gateway');
    await event(b, KEYS.shared, 'login', 'bob');

    const first = await event(b, KEYS.shared, 'disconnect');
    await event(b, KEYS.shared, 'reconnect');
    const kept = { ...b.site.desktop('shared-1') };
    await event(b, KEYS.shared, 'disconnect');

    expect(first).toMatchObject({ sessionState: 'disconnected', released: null });
    expect(kept).toMatchObject({ heldBy: 'bob', releaseAfter: null, sessionState: 'connected' });
    expect(b.site.desktop('shared-1').releaseAfter).toBe(b.clock.now() + 60_000);
  });

  it('releases at logout per the rule, and closes the user’s forwards to that desktop', async () => {
    const b = brokerWithAnn();
    await launch(b, 'bob', 'shared-1');
    b.site.desktop('shared-1').heldRelease = 'on_logout';
    await event(b, KEYS.shared, 'login', 'bob');

    const result = await event(b, KEYS.shared, 'logout');

    expect(result).toMatchObject({ released: 'bob', sessionState: 'none' });
    expect(b.site.desktop('shared-1').heldBy).toBeNull();
    expect(b.forwards.forwards.every((f) => f.closed)).toBe(true);
    expect(b.control.closed).toHaveLength(1);
    expect(b.site.log.map((r) => r.event).slice(-3)).toEqual([
      'agent_login',
      'agent_logout',
      'release',
    ]);
  });

  it('goes to leased mode when the database fails, keeping the event in the outbox', async () => {
    const b = brokerWithAnn();
    await b.mirror.putAgentKeys([
      {
        keyHash: b.site.desktop('shared-1').agentKeyHash!,
        id: b.site.desktop('shared-1').id,
        name: 'shared-1',
        address: '10.0.1.1',
        heldBy: null,
        assignedUser: null,
      },
    ]);
    b.site.failNext(new DatabaseUnavailableError());

    const result = await event(b, KEYS.shared, 'login', 'bob');

    expect(result).toMatchObject({ sessionState: 'connected', released: null });
    expect(b.outbox.items).toEqual([
      {
        id: expect.any(String),
        item: {
          kind: 'agent_event',
          desktopId: b.site.desktop('shared-1').id,
          event: 'login',
          user: 'bob',
          at: b.clock.now(),
        },
      },
    ]);
    expect(b.site.desktop('shared-1').sessionState).toBe('none');
  });
});
