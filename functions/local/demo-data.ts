/**
 * The demo site a fresh local broker starts with: a local authentication server, a few users,
 * a pool of demo desktops, a protocol plan, a policy and an assignment rule.
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
