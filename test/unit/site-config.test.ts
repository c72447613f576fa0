import { describe, expect, it } from 'vitest';
import { diffSiteConfig } from '../../functions/core/site-config/diff.ts';
import { siteConfigSchema } from '../../functions/core/site-config/schema.ts';
import { InvalidConfigError, parseSiteConfig } from '../../functions/core/site-config/validate.ts';
import { demoSite } from '../../functions/local/demo-data.ts';

const valid = {
  authServers: [{ name: 'local', type: 'local' }],
  users: [{ name: 'alice', password: 'correct horse', groups: ['Engineers'] }],
  roles: [{ name: 'User' }],
  gateways: [
    {
      name: 'gw1',
      address: '10.0.1.5',
      publicAddress: 'gw1.example.org',
      controlUrl: 'https://10.0.1.5:9443',
    },
  ],
  gatewayClusters: [{ name: 'east', mode: 'fewest', members: ['gw1'] }],
  protocolPlans: [{ name: 'rdp', protocols: [{ protocol: 'rdp', port: 3389, gateway: 'east' }] }],
  pools: [{ name: 'eng', desktops: [{ name: 'eng-01', address: '10.0.2.11' }] }],
  locations: [
    { name: 'office', rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0.0/8' }] },
  ],
  policies: [{ name: 'eng', entries: [{ pool: 'eng', protocolPlan: 'rdp' }] }],
  assignments: [{ group: 'Engineers', location: 'office', role: 'User', policy: 'eng' }],
};

const problemsOf = (document: unknown): string[] => {
  try {
    parseSiteConfig(document);
  } catch (e: unknown) {
    if (e instanceof InvalidConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
};

describe('site configuration validation', () => {
  it('accepts the example and fills defaults', () => {
    const config = parseSiteConfig(valid);

    expect(config.policies[0]!.entries[0]).toMatchObject({
      offer: 1,
      release: 'on_logout',
      releaseDelaySeconds: 0,
    });
    expect(config.gateways[0]!.portRange).toEqual([20001, 23000]);
    expect(config.settings).toEqual({
      leasing: { enabled: true, days: 14 },
      logRetentionDays: 30,
      heartbeatSeconds: 20,
      clientHeaders: ['user-agent'],
    });
  });

  it.each([
    [
      { policies: [{ name: 'eng', entries: [{ pool: 'eg' }] }] },
      'policies[0].entries[0].pool: unknown pool "eg"',
    ],
    [
      { assignments: [{ group: '*', role: 'Boss', policy: 'eng' }] },
      'assignments[0].role: unknown role "Boss"',
    ],
    [
      { gatewayClusters: [{ name: 'east', mode: 'fewest', members: ['gw9'] }] },
      'gatewayClusters[0].members[0]: unknown gateway "gw9"',
    ],
    [
      {
        pools: [
          {
            name: 'eng',
            desktops: [
              { name: 'a', address: 'x' },
              { name: 'A', address: 'y' },
            ],
          },
        ],
      },
      'pools[0].desktops[1].name: duplicate desktop name "A" (also pools[0].desktops[0])',
    ],
    [
      {
        locations: [
          { name: 'office', rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0/33' }] },
        ],
      },
      'locations[0].rules[0].value: "10.0.0/33" is not an IP range (10.0.0.0/8 or 10.0.0.1-10.0.0.9)',
    ],
    [
      { users: [{ name: 'admin', password: 'long enough' }] },
      'users[0].name: "admin" is the built-in administrator and cannot be configured',
    ],
    [
      {
        protocolPlans: [
          { name: 'rdp', protocols: [{ protocol: 'rdp', port: 3389, gateway: 'west' }] },
        ],
      },
      'protocolPlans[0].protocols[0].gateway: unknown gateway or gateway cluster "west"',
    ],
  ])('names the path of a broken reference (%#)', (patch, expected) => {
    expect(problemsOf({ ...valid, ...patch })).toContain(expected);
  });

  it.each([
    [
      { policies: [{ name: 'eng', entries: [{ pool: 'eng', offer: -1 }] }] },
      /^policies\[0\]\.entries\[0\]\.offer: /,
    ],
    [
      { gateways: [{ ...valid.gateways[0], portRange: [30000, 20000] }] },
      /^gateways\[0\]\.portRange: first port must not be above the last/,
    ],
    [
      { protocolPlans: [{ name: 'rdp', protocols: [{ protocol: 'telnet', port: 23 }] }] },
      /^protocolPlans\[0\]\.protocols\[0\]\.protocol: /,
    ],
    [
      { users: [{ name: 'alice', password: 'short' }] },
      /^users\[0\]\.password: must be at least 8 characters/,
    ],
    [{ pools: [{ name: 'eng', desktops: [], colour: 'red' }] }, /^pools\[0\]: /],
    [
      { pools: [{ name: 'eng', desktops: [{ name: 'a', address: 'h', ports: { telnet: 23 } }] }] },
      /^pools\[0\]\.desktops\[0\]\.ports: Unrecognized key: "telnet"/,
    ],
    [
      { pools: [{ name: 'eng', desktops: [{ name: 'a', address: 'h', ports: { vnc: 70000 } }] }] },
      /^pools\[0\]\.desktops\[0\]\.ports\.vnc: /,
    ],
  ])('names the path of a shape error (%#)', (patch, expected) => {
    const problems = problemsOf({ ...valid, ...patch });
    expect(
      problems.some((p) => expected.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('reports shape errors and reference errors of a file together, in the order of the file', () => {
    const problems = problemsOf({
      ...valid,
      gateways: [{ ...valid.gateways[0], controlUrl: 'not a url', colour: 'red' }],
      pools: [
        { name: 'eng', desktops: [{ name: 'eng-01', address: 'bad address!' }] },
        { name: 'dr', desktops: [{ name: 'dr-01', address: '10.8.2.11', colour: 'red' }] },
      ],
      policies: [
        {
          name: 'eng',
          entries: [
            { pool: 'eng', offer: -1 },
            { pool: 'nope', backupPool: 'dr' },
          ],
        },
      ],
      assignments: [{ group: '*', role: 'Nobody', policy: 'eng', mfa: 'sms' }],
      settings: { clientHeaders: Array.from({ length: 9 }, (_, i) => `x-h${i}`) },
    });

    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'gateways[0].controlUrl',
      'gateways[0].controlUrl',
      'gateways[0]',
      'pools[0].desktops[0].address',
      'pools[1].desktops[0]',
      'policies[0].entries[0].offer',
      'policies[0].entries[1].pool',
      'assignments[0].mfa',
      'assignments[0].role',
      'settings.clientHeaders',
    ]);
    expect(problems).toContain('policies[0].entries[1].pool: unknown pool "nope"');
    expect(problems).toContain('assignments[0].role: unknown role "Nobody"');
    // A pool whose desktop has a bad address still exists for the references to it.
    expect(problems.some((p) => p.includes('unknown pool "eng"'))).toBe(false);
    expect(problems.at(-1)).toBe(
      'settings.clientHeaders: at most 8 headers (each login stores them)',
    );
  });

  it('accepts a desktop’s own ports by protocol', () => {
    const config = parseSiteConfig({
      ...valid,
      pools: [{ name: 'eng', desktops: [{ name: 'vnc-2', address: 'h', ports: { vnc: 5902 } }] }],
    });
    expect(config.pools[0]!.desktops[0]!.ports).toEqual({ vnc: 5902 });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      ...valid,
      policies: [{ name: 'eng', entries: [{ pool: 'nope', backupPool: 'nada' }] }],
      assignments: [{ group: '*', role: 'Nobody', policy: 'eng' }],
    });
    expect(problems).toEqual([
      'policies[0].entries[0].pool: unknown pool "nope"',
      'policies[0].entries[0].backupPool: unknown pool "nada"',
      'assignments[0].role: unknown role "Nobody"',
    ]);
  });
});

describe('diffSiteConfig', () => {
  const parse = (d: unknown) => siteConfigSchema.parse(d);

  it('finds nothing to change between equal configurations', () => {
    expect(diffSiteConfig(parse(valid), parse(valid))).toEqual([]);
  });

  it('lists creates, updates and deletes, deletes last', () => {
    const current = parse(valid);
    const desired = parse({
      ...valid,
      pools: [
        {
          name: 'eng',
          desktops: [
            { name: 'eng-01', address: '10.0.2.99' },
            { name: 'eng-02', address: '10.0.2.12' },
          ],
        },
      ],
      roles: [{ name: 'Admin', admin: true }],
      assignments: [{ group: '*', role: 'Admin', policy: 'eng' }],
    });

    expect(diffSiteConfig(current, desired)).toEqual([
      { kind: 'roles', action: 'create', name: 'Admin' },
      { kind: 'desktops', action: 'update', name: 'eng-01' },
      { kind: 'desktops', action: 'create', name: 'eng-02' },
      { kind: 'assignments', action: 'replace', name: '*' },
      { kind: 'roles', action: 'delete', name: 'User' },
    ]);
  });

  it('sees a reordering of authentication servers', () => {
    const two = {
      ...valid,
      authServers: [
        { name: 'local', type: 'local' },
        { name: 'other', type: 'local' },
      ],
    };
    const swapped = { ...valid, authServers: [two.authServers[1], two.authServers[0]] };

    const changes = diffSiteConfig(parse(two), parse(swapped));

    expect(changes.map((c) => `${c.action} ${c.name}`)).toEqual(['update other', 'update local']);
  });
});

describe('the demo site', () => {
  it('is valid with and without the gateway of its desktop in the browser', () => {
    const plain = parseSiteConfig(demoSite({ withGateway: false }));
    const html5 = parseSiteConfig(demoSite({ withGateway: true }));

    expect(plain.gateways).toEqual([]);
    expect(html5.gateways.map((g) => g.webUrl)).toEqual(['http://127.0.0.1:8443']);
    expect(html5.policies[0]!.entries.map((e) => e.pool)).toEqual(['demo', 'demo-vnc']);
  });
});
