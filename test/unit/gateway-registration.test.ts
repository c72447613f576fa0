/**
 * The rules of gateway registration with in-memory ports: expiry after three missed renewals,
 * the public address from the load balancer's view, cluster membership by tag beside fixed
 * members (the site configuration wins a name), counters turned into metrics across a
 * gateway restart, and the wire contract both programs share.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PathRequest, RegisteredGateway } from '../../functions/core/gateways/ports.ts';
import {
  clusterMembers,
  deregisterGateway,
  isLive,
  MISSED_RENEWALS,
  registerGateway,
} from '../../functions/core/gateways/registration.ts';
import {
  type RegistrationRequest,
  registrationRequestSchema,
} from '../../functions/core/gateways/registration-contract.ts';
import { createGatewayRouter } from '../../functions/core/gateways/routing.ts';
import { parseSiteConfig } from '../../functions/core/site-config/validate.ts';
import { loadGatewayConfig } from '../../functions/gateway/config.ts';
import { privateAddress } from '../../functions/gateway/registration.ts';
import { frozenClock } from '../helpers/clock.ts';
import {
  MemoryForwardStore,
  MemoryGatewayControl,
  MemoryGatewayRegistry,
} from '../helpers/memory-gateways.ts';
import { RecordingMetrics } from '../helpers/memory-metrics.ts';
import { memorySite } from '../helpers/memory-site.ts';

const request = (overrides: Partial<RegistrationRequest> = {}): RegistrationRequest => ({
  name: 'gw-a',
  controlUrl: 'http://10.0.1.5:9443',
  portRange: { from: 20001, to: 23000 },
  version: '0.1.0',
  tags: ['East', 'default'],
  renewSeconds: 20,
  capacity: { forwards: 3000 },
  stats: { forwards: 2, connections: 1, bytesFromClients: 100, bytesToClients: 1000 },
  ...overrides,
});

describe('registering', () => {
  it('lives for three renewal periods, and takes the public address from the load balancer’s view', async () => {
    let now = 1_000_000;
    const deps = {
      registry: new MemoryGatewayRegistry(),
      metrics: new RecordingMetrics(),
      clock: { now: () => now },
    };

    const g = await registerGateway(deps, request(), '203.0.113.7');

    expect(g).toMatchObject({
      publicAddress: '203.0.113.7',
      address: '203.0.113.7',
      tags: ['east', 'default'],
      registeredAt: now,
      renewedAt: now,
      expiresAt: now + MISSED_RENEWALS * 20_000,
    });
    now += MISSED_RENEWALS * 20_000 - 1;
    expect(isLive(g, now)).toBe(true);
    now += 1;
    expect(isLive(g, now)).toBe(false);
  });

  it('keeps the stated public address and the first registration time across renewals', async () => {
    let now = 5_000;
    const deps = {
      registry: new MemoryGatewayRegistry(),
      metrics: new RecordingMetrics(),
      clock: { now: () => now },
    };
    await registerGateway(deps, request({ publicAddress: 'gw-a.example.org' }), '10.0.0.1');
    now += 20_000;
    const renewed = await registerGateway(
      deps,
      request({ publicAddress: 'gw-a.example.org' }),
      '10.0.0.1',
    );

    expect(renewed).toMatchObject({
      publicAddress: 'gw-a.example.org',
      registeredAt: 5_000,
      renewedAt: 25_000,
    });
    expect(deps.metrics.counts.get('gatewayRegistrations{"event":"registered"}')).toBe(1);
    expect(deps.metrics.counts.get('gatewayRegistrations{"event":"renewed"}')).toBe(1);
  });

  it('turns the counters into metrics: bytes since the last renewal, also across a gateway restart', async () => {
    let now = 0;
    const deps = {
      registry: new MemoryGatewayRegistry(),
      metrics: new RecordingMetrics(),
      clock: { now: () => now },
    };
    const stats = (forwards: number, toClients: number) => ({
      forwards,
      connections: forwards,
      bytesFromClients: 0,
      bytesToClients: toClients,
    });
    await registerGateway(deps, request({ stats: stats(1, 1000) }), 'x');
    now += 20_000;
    await registerGateway(deps, request({ stats: stats(4, 1500) }), 'x');
    now += 20_000;
    // Restarted: its counters began again.
    await registerGateway(deps, request({ stats: stats(0, 300) }), 'x');

    const bytes = deps.metrics.counts.get(
      'gatewayBytes{"gateway":"gw-a","direction":"to_clients"}',
    );
    expect(bytes).toBe(1000 + 500 + 300);
    expect(deps.metrics.gauges.get('gatewayForwards{"gateway":"gw-a"}')).toBe(0);
  });

  it('deregisters once', async () => {
    const deps = {
      registry: new MemoryGatewayRegistry(),
      metrics: new RecordingMetrics(),
      clock: { now: () => 0 },
    };
    await registerGateway(deps, request(), 'x');
    expect(await deregisterGateway(deps, 'GW-A')).toBe(true);
    expect(await deregisterGateway(deps, 'gw-a')).toBe(false);
    expect(deps.metrics.counts.get('gatewayRegistrations{"event":"deregistered"}')).toBe(1);
  });
});

describe('cluster members', () => {
  const config = parseSiteConfig({
    gateways: [
      {
        name: 'fixed-1',
        address: '10.0.0.1',
        publicAddress: 'f1.example.org',
        controlUrl: 'http://10.0.0.1:9443',
      },
      {
        name: 'gw-b',
        address: '10.0.0.2',
        publicAddress: 'b.example.org',
        controlUrl: 'http://10.0.0.2:9443',
      },
    ],
    gatewayClusters: [
      { name: 'east', mode: 'fewest', members: ['fixed-1'], tag: 'east' },
      { name: 'fixed-only', mode: 'fewest', members: ['fixed-1'] },
    ],
  });
  const ids = new Map([
    ['fixed-1', 11],
    ['gw-b', 12],
  ]);
  const registered = (name: string, tags: string[]): RegisteredGateway => ({
    name,
    address: '10.1.0.1',
    publicAddress: `${name}.public`,
    controlUrl: `http://${name}:9443`,
    portRange: { from: 1, to: 2 },
    version: 'v',
    tags,
    renewSeconds: 20,
    capacity: { forwards: 2 },
    stats: { forwards: 0, connections: 0, bytesFromClients: 0, bytesToClients: 0 },
    registeredAt: 0,
    renewedAt: 0,
    expiresAt: 1,
  });

  it('are the fixed members, then the live registered gateways with the tag; the configuration wins a name', () => {
    const live = [
      registered('gw-z', ['east']),
      registered('gw-b', ['east']),
      registered('gw-w', ['west']),
    ];
    const members = clusterMembers(config, config.gatewayClusters[0]!, ids, live);

    expect(members).toEqual([
      {
        name: 'fixed-1',
        publicAddress: 'f1.example.org',
        controlUrl: 'http://10.0.0.1:9443',
        gatewayId: 11,
      },
      {
        name: 'gw-b',
        publicAddress: 'b.example.org',
        controlUrl: 'http://10.0.0.2:9443',
        gatewayId: 12,
      },
      {
        name: 'gw-z',
        publicAddress: 'gw-z.public',
        controlUrl: 'http://gw-z:9443',
        gatewayId: null,
      },
    ]);
    expect(
      clusterMembers(config, config.gatewayClusters[1]!, ids, live).map((m) => m.name),
    ).toEqual(['fixed-1']);
  });

  it('lets a cluster have a tag and no fixed member, but not neither', () => {
    expect(() =>
      parseSiteConfig({ gatewayClusters: [{ name: 'auto', mode: 'fewest', tag: 'default' }] }),
    ).not.toThrow();
    expect(() => parseSiteConfig({ gatewayClusters: [{ name: 'none', mode: 'fewest' }] })).toThrow(
      /gatewayClusters\[0\]\.members: needs at least one gateway, or a tag/,
    );
  });
});

describe('the registration contract', () => {
  it('accepts what a gateway sends and refuses what it must not', () => {
    expect(registrationRequestSchema.safeParse(request()).success).toBe(true);
    for (const bad of [
      request({ controlUrl: 'http://10.0.1.5:9443/some/path' }),
      request({ renewSeconds: 0 }),
      request({ tags: ['has space'] }),
      request({ portRange: { from: 30000, to: 20000 } }),
      { ...request(), secret: 'x' },
    ]) {
      expect(registrationRequestSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the gateway’s registration settings', () => {
  const secret = 'gateway-secret-0123456789';

  it('registers with the broker it forwards to, tagged `default`, renewing every 20 s', () => {
    const on = loadGatewayConfig({
      GATEWAY_SECRET: secret,
      BROKER_URL: 'https://broker.example.org',
    });
    const noBroker = loadGatewayConfig({ GATEWAY_SECRET: secret });
    const off = loadGatewayConfig({
      GATEWAY_SECRET: secret,
      BROKER_URL: 'https://broker.example.org',
      GATEWAY_REGISTER: 'off',
    });

    expect(on.registration).toMatchObject({ on: true, tags: ['default'], renewSeconds: 20 });
    expect(noBroker.registration.on).toBe(false);
    expect(off.registration.on).toBe(false);
  });

  it('reads tags, addresses and the renewal period, and names a bad one', () => {
    const config = loadGatewayConfig({
      GATEWAY_SECRET: secret,
      GATEWAY_TAGS: ' east, fargate ',
      GATEWAY_RENEW_SECONDS: '5',
      GATEWAY_PUBLIC_ADDRESS: 'gw1.example.org',
      GATEWAY_ADDRESS: '10.0.1.5',
    });
    expect(config.registration).toMatchObject({
      tags: ['east', 'fargate'],
      renewSeconds: 5,
      publicAddress: 'gw1.example.org',
      address: '10.0.1.5',
    });
    expect(() => loadGatewayConfig({ GATEWAY_SECRET: secret, GATEWAY_TAGS: 'a b' })).toThrow(
      /environment variable GATEWAY_TAGS: must be a comma-separated list of tags/,
    );
    expect(() => loadGatewayConfig({ GATEWAY_SECRET: secret, GATEWAY_RENEW_SECONDS: '0' })).toThrow(
      /GATEWAY_RENEW_SECONDS/,
    );
  });

  it('finds its private address from its control bind, else the ECS task metadata', async () => {
    expect(await privateAddress({ controlBind: '127.0.0.1' })).toBe('127.0.0.1');
    expect(await privateAddress({ controlBind: '0.0.0.0', configured: '10.9.9.9' })).toBe(
      '10.9.9.9',
    );
    const metadata = createServer((req, res) => {
      expect(req.url).toBe('/v4/abc/task');
      res.end(JSON.stringify({ Containers: [{ Networks: [{ IPv4Addresses: ['10.0.1.77'] }] }] }));
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
    try {
      const { port } = metadata.address() as AddressInfo;
      expect(
        await privateAddress({
          controlBind: '0.0.0.0',
          ecsMetadataUri: `http://127.0.0.1:${port}/v4/abc`,
        }),
      ).toBe('10.0.1.77');
    } finally {
      metadata.close();
    }
  });
});

describe('routing over registered gateways', () => {
  const registration = (name: string, tags: string[], expiresAt: number): RegisteredGateway => ({
    name,
    address: `10.1.0.${name.at(-1)}`,
    publicAddress: `${name}.public.example.org`,
    controlUrl: `http://10.1.0.${name.at(-1)}:9443`,
    portRange: { from: 20001, to: 23000 },
    version: 'v',
    tags,
    renewSeconds: 20,
    capacity: { forwards: 3000 },
    stats: { forwards: 0, connections: 0, bytesFromClients: 0, bytesToClients: 0 },
    registeredAt: 0,
    renewedAt: 0,
    expiresAt,
  });
  const setup = () => {
    const clock = frozenClock(1_000_000);
    const site = memorySite(
      {
        gatewayClusters: [
          { name: 'auto', mode: 'fewest', tag: 'default' },
          {
            name: 'everywhere',
            mode: 'all',
            tag: 'default',
            loadBalancerAddress: 'lb.example.org',
          },
        ],
      },
      clock,
    );
    const control = new MemoryGatewayControl();
    const forwards = new MemoryForwardStore();
    const registry = new MemoryGatewayRegistry();
    const router = createGatewayRouter({
      snapshot: site.snapshot,
      control,
      forwards,
      registry,
      now: () => clock.now(),
      warn: () => {},
    });
    return { clock, control, forwards, registry, router };
  };
  const request = (gateway: string): PathRequest => ({
    user: 'ann',
    desktop: { id: 7, name: 'desk-7', address: '10.0.0.7' },
    protocol: { protocol: 'rdp', port: 3389, gateway },
    clientIp: '192.0.2.1',
    loginGateway: null,
    expiresAt: 9_000_000,
  });

  it('uses the live ones only, the fewest-loaded first, recorded without a site-database id', async () => {
    const { clock, control, forwards, registry, router } = setup();
    await registry.put(registration('gw-a', ['default'], clock.now() + 60_000));
    await registry.put(registration('gw-b', ['default'], clock.now() + 60_000));
    await registry.put(registration('gw-gone', ['default'], clock.now() - 1));
    await registry.put(registration('gw-other', ['east'], clock.now() + 60_000));
    control.load.set('gw-a', 5);

    const path = await router.open(request('auto'));

    expect(path).toEqual({
      via: 'gateway',
      host: 'gw-b.public.example.org',
      port: 20001,
      gateway: 'gw-b',
    });
    expect(forwards.forwards).toEqual([
      expect.objectContaining({ gateway: 'gw-b', gatewayId: null, closed: false }),
    ]);
    const all = await router.open(request('everywhere'));
    expect(all).toMatchObject({ host: 'lb.example.org', gateway: 'everywhere' });
    expect([...control.open_.keys()].sort()).toEqual(['gw-a', 'gw-b']);
  });

  it('replaces the forward of a gateway that went away at the next connect, and closes nothing on it', async () => {
    const { clock, control, forwards, registry, router } = setup();
    await registry.put(registration('gw-a', ['default'], clock.now() + 60_000));
    await router.open(request('auto'));
    await registry.put(registration('gw-b', ['default'], clock.now() + 60_000));
    await registry.remove('gw-a');

    await router.open(request('auto'));
    await router.closeForUser('ann');

    expect(forwards.forwards.map((f) => [f.gateway, f.closed])).toEqual([
      ['gw-a', true],
      ['gw-b', true],
    ]);
    // Only the live gateway is asked to close its forward; the one gone took its own along.
    expect(control.closed.map((c) => c.gateway)).toEqual(['gw-b']);
  });

  it('answers 503 while no gateway with the tag is registered', async () => {
    const { router } = setup();
    await expect(router.open(request('auto'))).rejects.toMatchObject({
      status: 503,
      code: 'gateway_unavailable',
      message:
        'gateway cluster "auto" has no live member (no registered gateway with tag "default")',
    });
  });
});
