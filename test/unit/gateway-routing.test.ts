/**
 * Gateway routing (core/gateways/routing.ts) over in-memory ports: direct paths, one gateway,
 * and the cluster modes of the guide's "Using Gateway Clusters" (all, login, fewest), with
 * gateways that do not answer, and closing a user's forwards.
 */
import { describe, expect, it } from 'vitest';
import type { PathRequest } from '../../functions/core/gateways/ports.ts';
import { createGatewayRouter } from '../../functions/core/gateways/routing.ts';
import { frozenClock } from '../helpers/clock.ts';
import {
  MemoryForwardStore,
  MemoryGatewayControl,
  MemoryGatewayRegistry,
} from '../helpers/memory-gateways.ts';
import { memorySite } from '../helpers/memory-site.ts';

const gateway = (name: string) => ({
  name,
  address: `10.9.0.${name.at(-1)}`,
  publicAddress: `${name}.example.org`,
  controlUrl: `http://10.9.0.${name.at(-1)}:9443`,
});

const SITE = {
  gateways: [gateway('gw1'), gateway('gw2'), gateway('gw3')],
  gatewayClusters: [
    {
      name: 'both',
      mode: 'all' as const,
      members: ['gw1', 'gw2'],
      loadBalancerAddress: 'lb.example.org',
    },
    { name: 'sticky', mode: 'login' as const, members: ['gw1', 'gw2'] },
    { name: 'least', mode: 'fewest' as const, members: ['gw1', 'gw2', 'gw3'] },
  ],
};

function router(withControl = true) {
  const site = memorySite(SITE, frozenClock());
  const control = new MemoryGatewayControl();
  const forwards = new MemoryForwardStore();
  const warnings: string[] = [];
  const r = createGatewayRouter({
    snapshot: site.snapshot,
    control: withControl ? control : undefined,
    forwards,
    registry: new MemoryGatewayRegistry(),
    now: () => Date.now(),
    warn: (m) => warnings.push(m),
  });
  return { r, control, forwards, warnings };
}

const request = (gatewayName?: string, over: Partial<PathRequest> = {}): PathRequest => ({
  user: 'ann',
  desktop: { id: 7, name: 'desk-7', address: '10.0.0.7' },
  protocol: { protocol: 'rdp', port: 3389, ...(gatewayName ? { gateway: gatewayName } : {}) },
  clientIp: '192.0.2.1',
  loginGateway: null,
  expiresAt: 1_000_000,
  ...over,
});

describe('gateway routing', () => {
  it('goes straight to the desktop without a gateway, opening nothing', async () => {
    const { r, forwards } = router();
    expect(await r.open(request())).toEqual({ via: 'direct', host: '10.0.0.7', port: 3389 });
    expect(forwards.forwards).toEqual([]);
  });

  it('opens a forward on a named gateway, locked to the client, and records it', async () => {
    const { r, control, forwards } = router();

    const path = await r.open(request('gw3'));

    expect(path).toEqual({ via: 'gateway', host: 'gw3.example.org', port: 20001, gateway: 'gw3' });
    expect(control.open_.get('gw3')).toEqual([
      expect.objectContaining({
        desktopHost: '10.0.0.7',
        desktopPort: 3389,
        clientIp: '192.0.2.1',
        expiresAt: 1_000_000,
      }),
    ]);
    expect(forwards.forwards).toEqual([
      expect.objectContaining({
        gateway: 'gw3',
        gatewayId: 3,
        listenPort: 20001,
        user: 'ann',
        desktopId: 7,
      }),
    ]);
  });

  it('"fewest" picks the member with the fewest forwards, skipping one that does not answer', async () => {
    const { r, control } = router();
    control.load.set('gw1', 5).set('gw2', 1).set('gw3', 0);
    control.down.add('gw3');

    expect(await r.open(request('least'))).toMatchObject({ gateway: 'gw2' });
  });

  it('"all" opens on every member on one port and answers with the load balancer', async () => {
    const { r, control, forwards } = router();
    control.open_.set('gw1', [
      {
        key: 'x',
        listenPort: 20001,
        desktopHost: 'h',
        desktopPort: 1,
        clientIp: 'c',
        expiresAt: 1,
        connections: 0,
      },
    ]);

    const path = await r.open(request('both'));

    expect(path).toEqual({ via: 'gateway', host: 'lb.example.org', port: 20002, gateway: 'both' });
    expect(control.open_.get('gw2')?.map((f) => f.listenPort)).toEqual([20002]);
    expect(forwards.forwards.map((f) => [f.gateway, f.listenPort])).toEqual([
      ['gw1', 20002],
      ['gw2', 20002],
    ]);
  });

  it('"all" goes on without a member that does not answer, and fails when none does', async () => {
    const { r, control, forwards } = router();
    control.down.add('gw1');
    const path = await r.open(request('both'));
    control.down.add('gw2');

    expect(path.port).toBe(20001);
    expect(forwards.forwards.map((f) => f.gateway)).toEqual(['gw2']);
    await expect(r.open(request('both'))).rejects.toMatchObject({
      status: 503,
      code: 'gateway_unavailable',
    });
  });

  it('"login" uses the gateway that forwarded the login, and says so when there was none', async () => {
    const { r } = router();

    const path = await r.open(request('sticky', { loginGateway: 'GW2' }));

    expect(path).toMatchObject({ gateway: 'gw2' });
    await expect(r.open(request('sticky'))).rejects.toMatchObject({
      status: 503,
      code: 'login_gateway_unknown',
    });
  });

  it('answers 503 for a gateway plan on a broker without a gateway secret', async () => {
    const { r } = router(false);
    await expect(r.open(request('gw1'))).rejects.toMatchObject({
      status: 503,
      code: 'gateway_not_configured',
    });
  });

  it('closes a user’s forwards (one desktop or all), warning when a gateway does not answer', async () => {
    const { r, control, forwards, warnings } = router();
    await r.open(request('gw1'));
    await r.open(request('gw2', { desktop: { id: 8, name: 'desk-8', address: '10.0.0.8' } }));
    await r.open(request('gw3', { user: 'bob' }));
    control.down.add('gw2');

    await r.closeForUser('ANN', 7);
    const afterOne = forwards.forwards.filter((f) => f.closed).map((f) => f.gateway);
    await r.closeForUser('ann');

    expect(afterOne).toEqual(['gw1']);
    expect(forwards.forwards.filter((f) => f.closed).map((f) => f.gateway)).toEqual(['gw1', 'gw2']);
    expect(control.closed.map((c) => c.gateway)).toEqual(['gw1']);
    expect(warnings).toEqual(['gateway did not close a forward; it will expire on its own']);
  });
});
