/**
 * The demo site a fresh local broker starts with: a local authentication server, a few users,
 * a pool of demo desktops, a protocol plan, a policy and an assignment rule. With a gateway
 * secret, also a VNC desktop shown in the browser through a gateway on this machine
 * (`demo-gw`; the README's "Desktops in the browser" starts both).
 */
import type { SiteConfigInput } from '../core/site-config/schema.ts';

export const DEMO_USERS = [
  { name: 'alice', password: 'alice-demo-pass', groups: ['Engineers'] },
  { name: 'bob', password: 'bob-demo-pass', groups: ['Engineers'] },
  { name: 'carol', password: 'carol-demo-pass', groups: ['Designers'] },
] as const;

export const DEMO_SITE: SiteConfigInput = {
  authServers: [{ name: 'local', type: 'local' }],
  users: DEMO_USERS.map((u) => ({
    name: u.name,
    password: u.password,
    groups: [...u.groups],
    authServer: 'local',
  })),
  roles: [{ name: 'Administrator', admin: true }, { name: 'User' }],
  protocolPlans: [{ name: 'rdp-direct', protocols: [{ protocol: 'rdp', port: 3389 }] }],
  pools: [
    {
      name: 'demo',
      desktops: [
        { name: 'demo-01', address: '127.0.0.11' },
        { name: 'demo-02', address: '127.0.0.12' },
        { name: 'demo-03', address: '127.0.0.13' },
        { name: 'alice-ws', address: '127.0.0.21', assignedTo: 'alice' },
      ],
    },
  ],
  policies: [
    {
      name: 'demo',
      entries: [{ pool: 'demo', offer: 2, protocolPlan: 'rdp-direct', release: 'on_logout' }],
    },
  ],
  assignments: [{ group: '*', role: 'User', policy: 'demo' }],
};

/** The demo's desktop in the browser: `scripts/demo-desktop.sh` on 127.0.0.1:5900, `demo-gw`. */
export function demoSite(options: { withGateway: boolean }): SiteConfigInput {
  if (!options.withGateway) return DEMO_SITE;
  return {
    ...DEMO_SITE,
    gateways: [
      {
        name: 'demo-gw',
        address: '127.0.0.1',
        publicAddress: '127.0.0.1',
        controlUrl: 'http://127.0.0.1:9443',
        webUrl: 'http://127.0.0.1:8443',
      },
    ],
    protocolPlans: [
      ...(DEMO_SITE.protocolPlans ?? []),
      { name: 'vnc-via-demo-gw', protocols: [{ protocol: 'vnc', port: 5900, gateway: 'demo-gw' }] },
    ],
    pools: [
      ...(DEMO_SITE.pools ?? []),
      { name: 'demo-vnc', desktops: [{ name: 'demo-vnc', address: '127.0.0.1' }] },
    ],
    policies: (DEMO_SITE.policies ?? []).map((p) => ({
      ...p,
      entries: [
        ...p.entries,
        { pool: 'demo-vnc', offer: 1, protocolPlan: 'vnc-via-demo-gw', release: 'on_logout' },
      ],
    })),
  };
}
