import { describe, expect, it } from 'vitest';
import { firstAssignment } from '../../functions/core/login/assignments.ts';
import { type ClientAttributes, locationsOf } from '../../functions/core/login/locations.ts';
import { siteConfigSchema } from '../../functions/core/site-config/schema.ts';

const config = siteConfigSchema.parse({
  roles: [{ name: 'User' }, { name: 'Remote' }],
  gateways: [
    {
      name: 'asia-gw',
      address: '10.9.0.1',
      publicAddress: 'asia.example.org',
      controlUrl: 'https://10.9.0.1:9443',
    },
  ],
  gatewayClusters: [
    { name: 'asia', mode: 'fewest', members: ['asia-gw'] },
    { name: 'asia-auto', mode: 'fewest', tag: 'asia' },
  ],
  pools: [{ name: 'p' }],
  policies: [
    { name: 'office', entries: [{ pool: 'p' }] },
    { name: 'home', entries: [{ pool: 'p' }] },
  ],
  locations: [
    { name: 'office', rules: [{ attribute: 'ip', op: 'in_range', value: '10.0.0.0/8' }] },
    { name: 'via-asia', rules: [{ attribute: 'login_gateway', op: 'is_equal_to', value: 'Asia' }] },
    {
      name: 'via-asia-auto',
      rules: [{ attribute: 'login_gateway', op: 'is_equal_to', value: 'asia-auto' }],
    },
    {
      name: 'thin-or-lab',
      match: 'any',
      rules: [
        { attribute: 'header', header: 'X-Client-Type', op: 'contains', value: 'thin' },
        { attribute: 'client_name', op: 'starts_with', value: 'lab-' },
      ],
    },
    {
      name: 'outside-and-tagged',
      match: 'all',
      rules: [
        { attribute: 'ip', op: 'not_in_range', value: '10.0.0.0/8' },
        { attribute: 'header', header: 'X-Tag', op: 'is_equal_to', value: 'yes' },
      ],
    },
  ],
  assignments: [
    { group: 'Engineers', location: 'office', role: 'User', policy: 'office' },
    { group: 'Engineers', role: 'Remote', policy: 'home' },
    { group: '*', location: 'via-asia', role: 'Remote', policy: 'home' },
  ],
});

const client = (over: Partial<ClientAttributes>): ClientAttributes => ({
  ip: '203.0.113.9',
  name: 'pc-1',
  loginGateway: null,
  headers: {},
  ...over,
});
const names = (c: ClientAttributes) => locationsOf(config, c).map((l) => l.name);

describe('locations', () => {
  it('places a client by IP range', () => {
    expect(names(client({ ip: '10.1.2.3' }))).toEqual(['office']);
  });

  it('matches the login gateway by its own name or by a cluster it belongs to', () => {
    expect(names(client({ loginGateway: 'asia-gw' }))).toEqual(['via-asia']);
    expect(names(client({ loginGateway: 'europe-gw' }))).toEqual([]);
  });

  it('matches a tag cluster by the tags a registered login gateway signed', () => {
    expect(names(client({ loginGateway: 'ip-10-0-1-5', loginGatewayTags: ['Asia'] }))).toEqual([
      'via-asia-auto',
    ]);
    expect(names(client({ loginGateway: 'ip-10-0-1-5', loginGatewayTags: ['europe'] }))).toEqual(
      [],
    );
    // Tags without a gateway that vouched for them count for nothing.
    expect(names(client({ loginGateway: null, loginGatewayTags: ['asia'] }))).toEqual([]);
  });

  it('matches any-of rules on headers and client names, case-insensitively', () => {
    expect(names(client({ headers: { 'x-client-type': 'ThinClient 2' } }))).toEqual([
      'thin-or-lab',
    ]);
    expect(names(client({ name: 'LAB-7' }))).toEqual(['thin-or-lab']);
  });

  it('needs every rule of an all-of location', () => {
    expect(names(client({ headers: { 'x-tag': 'yes' } }))).toEqual(['outside-and-tagged']);
    expect(names(client({ ip: '10.0.0.1', headers: { 'x-tag': 'yes' } }))).toEqual(['office']);
  });
});

describe('assignments', () => {
  it('takes the first matching rule', () => {
    expect(firstAssignment(config, ['Engineers'], ['office'])?.rule.policy).toBe('office');
    expect(firstAssignment(config, ['engineers'], [])?.rule.policy).toBe('home');
  });

  it('matches * for everyone, with the location', () => {
    expect(firstAssignment(config, ['Sales'], ['via-asia'])?.index).toBe(2);
    expect(firstAssignment(config, ['Sales'], ['office'])).toBeUndefined();
  });
});
