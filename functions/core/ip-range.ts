/**
 * IP ranges for location rules: CIDR (`10.0.0.0/8`, `fd00::/8`), a span
 * (`10.0.0.1-10.0.0.9`) or one address. Built on Node's `net.BlockList`.
 */
import { BlockList, isIP } from 'node:net';

type Family = 'ipv4' | 'ipv6';
const family = (address: string): Family | undefined =>
  (({ 4: 'ipv4', 6: 'ipv6' }) as const)[isIP(address) as 4 | 6];

/** Normalises IPv4-mapped IPv6 (`::ffff:10.0.0.1`) to plain IPv4. */
export function normalizeIp(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

function toBlockList(range: string): BlockList | undefined {
  const list = new BlockList();
  const value = range.trim();
  try {
    if (value.includes('/')) {
      const parts = value.split('/');
      if (parts.length !== 2) return undefined;
      const [base, bits] = parts;
      const f = family(base!);
      const prefix = Number(bits);
      if (!f || !/^\d+$/.test(bits!) || prefix > (f === 'ipv4' ? 32 : 128)) return undefined;
      list.addSubnet(base!, prefix, f);
    } else if (value.includes('-')) {
      const parts = value.split('-').map((s) => s.trim());
      if (parts.length !== 2) return undefined;
      const [from, to] = parts;
      const f = family(from!);
      if (!f || family(to!) !== f) return undefined;
      list.addRange(from!, to!, f);
    } else {
      const f = family(value);
      if (!f) return undefined;
      list.addAddress(value, f);
    }
  } catch {
    return undefined;
  }
  return list;
}

/** True when `range` is a CIDR, an address span or one address. */
export function isValidIpRange(range: string): boolean {
  return toBlockList(range) !== undefined;
}

/** True when `address` lies in `range`; false for anything unparseable. */
export function ipInRange(address: string, range: string): boolean {
  const ip = normalizeIp(address);
  const f = family(ip);
  const list = toBlockList(range);
  return Boolean(f && list?.check(ip, f));
}
