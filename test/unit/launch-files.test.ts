import { describe, expect, it } from 'vitest';
import { launchFile, launchUri } from '../../functions/core/desktops/launch-files.ts';
import { chooseProtocol, resolvePlan } from '../../functions/core/desktops/protocol-plans.ts';
import { siteConfigSchema } from '../../functions/core/site-config/schema.ts';

describe('launch files', () => {
  it('writes an .rdp file Microsoft clients read', () => {
    const file = launchFile({
      protocol: 'rdp',
      host: 'gw1.example.org',
      port: 20017,
      user: 'alice',
      desktopName: 'eng 01',
    })!;

    expect(file.name).toBe('eng_01.rdp');
    expect(file.contentType).toBe('application/x-rdp');
    const lines = file.content.split('\r\n');
    expect(lines[0]).toBe('full address:s:gw1.example.org:20017');
    expect(lines).toContain('username:s:alice');
    expect(lines.every((l) => l === '' || /^[a-z :]+:[isb]:/.test(l))).toBe(true);
  });

  it('brackets IPv6 hosts and gives SSH a URI instead of a file', () => {
    expect(
      launchFile({ protocol: 'rdp', host: 'fd00::5', port: 3389, user: 'a', desktopName: 'x' })!
        .content,
    ).toMatch(/^full address:s:\[fd00::5\]:3389/);
    const ssh = {
      protocol: 'ssh',
      host: '10.0.0.5',
      port: 22,
      user: 'bob smith',
      desktopName: 'x',
    };
    expect(launchFile(ssh)).toBeUndefined();
    expect(launchUri(ssh)).toBe('ssh://bob%20smith@10.0.0.5:22');
  });
});

describe('protocol plans', () => {
  const config = siteConfigSchema.parse({
    protocolPlans: [
      {
        name: 'entry',
        protocols: [
          { protocol: 'rdp', port: 3389 },
          { protocol: 'vnc', port: 5900 },
        ],
      },
      { name: 'override', protocols: [{ protocol: 'dcv', port: 8443 }] },
    ],
    locations: [
      { name: 'plain', rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0.0/8' }] },
      {
        name: 'dcv-site',
        rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0.0/8' }],
        protocolPlan: 'override',
      },
    ],
  });

  it('uses the first overriding location, else the entry plan, else RDP direct', () => {
    expect(resolvePlan(config, { protocolPlan: 'entry' }, ['plain', 'dcv-site']).name).toBe(
      'override',
    );
    expect(resolvePlan(config, { protocolPlan: 'entry' }, ['plain']).name).toBe('entry');
    expect(resolvePlan(config, undefined, []).protocols).toEqual([{ protocol: 'rdp', port: 3389 }]);
  });

  it('chooses the asked protocol or refuses it', () => {
    const plan = resolvePlan(config, { protocolPlan: 'entry' }, []);
    expect(chooseProtocol(plan, undefined).protocol).toBe('rdp');
    expect(chooseProtocol(plan, 'VNC').port).toBe(5900);
    expect(() => chooseProtocol(plan, 'ssh')).toThrow(/offered with rdp, vnc, not ssh/);
  });
});
