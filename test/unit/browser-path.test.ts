/**
 * Which gateway bridges a desktop shown in the browser (core/gateways/browser-path.ts through
 * the router's `openBrowser`), over in-memory ports: one gateway, the cluster modes, registered
 * members of a tag cluster, gateways without a `webUrl` or not answering; and what the offer
 * list says (`servesBrowsers`).
 */
import { describe, expect, it } from 'vitest';
import { servesBrowsers } from '../../functions/core/gateways/browser-path.ts';
import type { PathRequest, RegisteredGateway } from '../../functions/core/gateways/ports.ts';
import { createGatewayRouter } from '../../functions/core/gateways/routing.ts';
import { siteConfigSchema } from '../../functions/core/site-config/schema.ts';
import { frozenClock } from '../helpers/clock.ts';
import {
  MemoryForwardStore,
  MemoryGatewayControl,
  MemoryGatewayRegistry,
} from '../helpers/memory-gateways.ts';
import { memorySite } from '../helpers/memory-site.ts';

const gateway = (name: string, web = true) => ({
  name,
  address: `10.9.0.${name.at(-1)}`,
  publicAddress: `${name}.example.org`,
  controlUrl: `http://10.9.0.${name.at(-1)}:9443`,
  ...(web ? { webUrl: `https://${name}.example.org:8443` } : {}),
});

const SITE = {
  gateways: [gateway('gw1'), gateway('gw2'), gateway('gw3'), gateway('gw4', false)],
  gatewayClusters: [
    {
      name: 'lb',
      mode: 'all' as const,
      loadBalancerAddress: 'lb.example.org',
      members: ['gw1', 'gw2'],
      webUrl: 'https://lb.example.org',
    },
    {
      name: 'lb-without-url',
      mode: 'all' as const,
      loadBalancerAddress: 'lb.example.org',
      members: ['gw1', 'gw2'],
    },
    { name: 'sticky', mode: 'login' as const, members: ['gw1', 'gw2'] },
    { name: 'least', mode: 'fewest' as const, members: ['gw1', 'gw2', 'gw3', 'gw4'] },
    { name: 'none-web', mode: 'fewest' as const, members: ['gw4'] },
    {
      name: 'auto',
      mode: 'all' as const,
      loadBalancerAddress: 'lb.example.org',
      tag: 'web',
      webUrl: 'https://auto.example.org/',
    },
    { name: 'auto-fewest', mode: 'fewest' as const, tag: 'web' },
  ],
};

const registered = (name: string): RegisteredGateway => ({
  name,
  address: '10.1.0.1',
  publicAddress: `${name}.public`,
  controlUrl: `http://${name}:9443`,
  portRange: { from: 1, to: 2 },
  version: 'v',
  tags: ['web'],
  renewSeconds: 20,
  capacity: { forwards: 2 },
  stats: { forwards: 0, connections: 0, bytesFromClients: 0, bytesToClients: 0 },
  registeredAt: Date.now(),
  renewedAt: Date.now(),
  expiresAt: Date.now() + 60_000,
});

function router(withControl = true) {
  const site = memorySite(SITE, frozenClock());
  const control = new MemoryGatewayControl();
  const registry = new MemoryGatewayRegistry();
  const r = createGatewayRouter({
    snapshot: site.snapshot,
    control: withControl ? control : undefined,
    forwards: new MemoryForwardStore(),
    registry,
    now: () => Date.now(),
    warn: () => {},
  });
  return { r, control, registry };
}

const request = (gatewayName?: string, loginGateway: string | null = null): PathRequest => ({
  user: 'ann',
  desktop: { id: 7, name: 'desk-7', address: '10.0.0.7' },
  protocol: { protocol: 'vnc', port: 5900, ...(gatewayName ? { gateway: gatewayName } : {}) },
  clientIp: '192.0.2.1',
  loginGateway,
  expiresAt: 1_000_000,
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'opened',
    (e: { code?: string; status?: number }) => `${e.status} ${e.code}`,
  );

describe('browser paths', () => {
  it("gives one gateway's WebSocket URL (https → wss), and opens no forward", async () => {
    const { r, control } = router();
    expect(await r.openBrowser(request('gw3'))).toEqual({
      gateway: 'gw3',
      url: 'wss://gw3.example.org:8443/app/html5/websocket',
    });
    expect([...control.open_.values()].flat()).toEqual([]);
  });

  it("gives a cluster in mode all by its load balancer's webUrl, whoever answers", async () => {
    const { r, control } = router();
    control.down.add('gw1');
    control.down.add('gw2');
    expect(await r.openBrowser(request('lb'))).toEqual({
      gateway: 'lb',
      url: 'wss://lb.example.org/app/html5/websocket',
    });
  });

  it('follows the login gateway in mode login', async () => {
    const { r } = router();
    expect((await r.openBrowser(request('sticky', 'GW2'))).gateway).toBe('gw2');
    expect(await refusal(r.openBrowser(request('sticky', null)))).toBe('503 login_gateway_unknown');
  });

  it('takes the member with the fewest forwards and HTML5 connections, skipping dead ones and ones without a webUrl', async () => {
    const { r, control } = router();
    control.load.set('gw1', 5);
    control.load.set('gw2', 1);
    control.load.set('gw3', 3);
    control.load.set('gw4', 0);
    expect((await r.openBrowser(request('least'))).gateway).toBe('gw2');
    control.down.add('gw2');
    expect((await r.openBrowser(request('least'))).gateway).toBe('gw3');
    control.down.add('gw1');
    control.down.add('gw3');
    expect(await refusal(r.openBrowser(request('least')))).toBe('503 gateway_unavailable');
  });

  it('gives a tag cluster in mode all its webUrl while a registered member is live', async () => {
    const { r, registry } = router();
    expect(await refusal(r.openBrowser(request('auto')))).toBe('503 gateway_unavailable');
    await registry.put(registered('task-a'));
    expect(await r.openBrowser(request('auto'))).toEqual({
      gateway: 'auto',
      url: 'wss://auto.example.org/app/html5/websocket',
    });
    // Registered gateways say no webUrl of their own: only the load balancer's reaches them.
    expect(await refusal(r.openBrowser(request('auto-fewest')))).toBe(
      '409 browser_display_unavailable',
    );
  });

  it('refuses direct desktops, gateways without a webUrl, and a broker without a gateway secret', async () => {
    const { r } = router();
    expect(await refusal(r.openBrowser(request()))).toBe('409 browser_needs_gateway');
    expect(await refusal(r.openBrowser(request('gw4')))).toBe('409 browser_display_unavailable');
    expect(await refusal(r.openBrowser(request('none-web')))).toBe(
      '409 browser_display_unavailable',
    );
    expect(await refusal(r.openBrowser(request('lb-without-url')))).toBe(
      '409 browser_display_unavailable',
    );
    expect(await refusal(router(false).r.openBrowser(request('gw1')))).toBe(
      '503 gateway_not_configured',
    );
  });

  it('tells the offer list which gateways browsers reach, from the configuration alone', () => {
    const config = siteConfigSchema.parse(SITE);
    const serves = (name: string) => servesBrowsers(config, name);
    expect(
      Object.fromEntries(
        [
          'gw1',
          'gw4',
          'lb',
          'lb-without-url',
          'sticky',
          'none-web',
          'auto',
          'auto-fewest',
          'nope',
        ].map((n) => [n, serves(n)]),
      ),
    ).toEqual({
      gw1: true,
      gw4: false,
      lb: true,
      'lb-without-url': false,
      sticky: true,
      'none-web': false,
      auto: true,
      'auto-fewest': false,
      nope: false,
    });
  });
});
