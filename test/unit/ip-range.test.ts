import { describe, expect, it } from 'vitest';
import { ipInRange, isValidIpRange } from '../../functions/core/ip-range.ts';

describe('ip ranges', () => {
  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['::ffff:10.1.2.3', '10.0.0.0/8', true],
    ['10.0.0.5', '10.0.0.1-10.0.0.9', true],
    ['10.0.0.10', '10.0.0.1-10.0.0.9', false],
    ['192.168.1.1', '192.168.1.1', true],
    ['fd00::1', 'fd00::/8', true],
    ['10.1.2.3', 'fd00::/8', false],
    ['garbage', '10.0.0.0/8', false],
  ])('%s in %s is %s', (ip, range, expected) => {
    expect(ipInRange(ip, range)).toBe(expected);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', 'x', '10.0.0.1-fd00::1', '', '10.0.0.0/8/8'])(
    'rejects %j',
    (range) => {
      expect(isValidIpRange(range)).toBe(false);
    },
  );
});
