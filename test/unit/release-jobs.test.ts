/**
 * The `agent_timeout` and `delayed_release` job bodies (core/jobs/release-bodies.ts) over
 * in-memory ports: a session whose agent missed three heartbeats counts as disconnected, a
 * disconnected desktop goes back after its policy's delay and not before, and the released
 * user's forwards close.
 */
import { describe, expect, it } from 'vitest';
import { handleAgentEvent } from '../../functions/core/agents/events.ts';
import { connect } from '../../functions/core/desktops/desktops.ts';
import { MISSED_AGENT_HEARTBEATS } from '../../functions/core/jobs/bodies.ts';
import { releaseJobBodies } from '../../functions/core/jobs/release-bodies.ts';
import type { JobRunContext } from '../../functions/core/jobs/runner.ts';
import { startSession } from '../../functions/core/login/login.ts';
import { type MemoryBroker, memoryBroker } from '../helpers/memory-broker.ts';

const HEARTBEAT_SECONDS = 20;
const KEY = 'agent-key-for-desk-1-000';

const SITE = {
  gateways: [
    { name: 'gw1', address: '10.9.0.1', publicAddress: 'gw1', controlUrl: 'http://10.9.0.1:9443' },
  ],
  protocolPlans: [
    { name: 'via-gw', protocols: [{ protocol: 'rdp' as const, port: 3389, gateway: 'gw1' }] },
  ],
  pools: [{ name: 'desks', desktops: [{ name: 'desk-1', address: '10.0.0.1', agentKey: KEY }] }],
  policies: [
    {
      name: 'p',
      entries: [
        {
          pool: 'desks',
          protocolPlan: 'via-gw',
          release: 'on_disconnect' as const,
          releaseDelaySeconds: 300,
        },
      ],
    },
  ],
  settings: { heartbeatSeconds: HEARTBEAT_SECONDS },
};

const logged: string[] = [];
const context: JobRunContext = {
  siteId: 1,
  idempotencyKey: 'k',
  attempt: 1,
  logger: { info: (m) => logged.push(m), warn: () => {}, error: () => {} },
};

async function withSession(): Promise<MemoryBroker> {
  const b = memoryBroker(SITE);
  const { session } = await startSession(b.loginDeps, {
    user: 'ann',
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
  await connect(b.desktopDeps, session, b.site.desktop('desk-1').id);
  await handleAgentEvent(b.agentDeps, KEY, { event: 'login', user: 'ann' });
  return b;
}

const bodies = (b: MemoryBroker) =>
  releaseJobBodies({
    agents: b.site.agents,
    desktops: b.site.desktops,
    gateways: b.desktopDeps.gateways,
    snapshot: b.site.snapshot,
    clock: b.clock,
  });

describe('agent_timeout', () => {
  it('leaves a session alone until its agent missed three heartbeats, then disconnects it', async () => {
    const b = await withSession();
    const silentFor = MISSED_AGENT_HEARTBEATS * HEARTBEAT_SECONDS * 1000;

    b.clock.advance(silentFor - 1000);
    await bodies(b).agent_timeout({ kind: 'agent_timeout' }, context);
    const before = b.site.desktop('desk-1').sessionState;
    b.clock.advance(2000);
    await bodies(b).agent_timeout({ kind: 'agent_timeout' }, context);

    expect(MISSED_AGENT_HEARTBEATS).toBe(3);
    expect(before).toBe('connected');
    expect(b.site.desktop('desk-1')).toMatchObject({
      sessionState: 'disconnected',
      heldBy: 'ann',
      releaseAfter: b.clock.now() + 300_000,
    });
  });

  it('looks only at the desktop its job names, when it names one', async () => {
    const b = await withSession();
    b.clock.advance(10 * 60_000);

    await bodies(b).agent_timeout({ kind: 'agent_timeout', desktopId: 999 }, context);
    expect(b.site.desktop('desk-1').sessionState).toBe('connected');
    await bodies(b).agent_timeout(
      { kind: 'agent_timeout', desktopId: b.site.desktop('desk-1').id },
      context,
    );
    expect(b.site.desktop('desk-1').sessionState).toBe('disconnected');
  });
});

describe('delayed_release', () => {
  it('gives a disconnected desktop back after its delay, not before, and closes the forward', async () => {
    const b = await withSession();
    await handleAgentEvent(b.agentDeps, KEY, { event: 'disconnect' });
    const job = {
      kind: 'delayed_release' as const,
      desktopId: b.site.desktop('desk-1').id,
      user: 'ann',
    };

    b.clock.advance(299_000);
    await bodies(b).delayed_release(job, context);
    const early = b.site.desktop('desk-1').heldBy;
    b.clock.advance(1000);
    await bodies(b).delayed_release(job, context);

    expect(early).toBe('ann');
    expect(b.site.desktop('desk-1').heldBy).toBeNull();
    expect(b.forwards.forwards.every((f) => f.closed)).toBe(true);
    expect(b.control.closed).toHaveLength(1);
    expect(b.site.log.at(-1)).toMatchObject({ event: 'release', detail: 'disconnect timeout' });
    expect(logged).toContain('desktops released after their delay');
  });

  it('does nothing a second time (the job is idempotent)', async () => {
    const b = await withSession();
    await handleAgentEvent(b.agentDeps, KEY, { event: 'disconnect' });
    b.clock.advance(301_000);
    const job = { kind: 'delayed_release' as const, desktopId: 1, user: 'ann' };

    await bodies(b).delayed_release(job, context);
    const rows = b.site.log.length;
    await bodies(b).delayed_release(job, context);

    expect(b.site.log.length).toBe(rows);
  });
});
