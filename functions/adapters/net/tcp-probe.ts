/**
 * The quick reachability probe for backup pools: a TCP connect to the desktop's protocol
 * port with a short timeout, the answer cached briefly so a burst of logins probes once.
 */
import net from 'node:net';
import type { ReachabilityProbe } from '../../core/desktops/offers.ts';

export function createTcpProbe(options: {
  timeoutMs: number;
  cacheMs: number;
  now?: () => number;
}): ReachabilityProbe {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; answer: Promise<boolean> }>();
  const connect = (address: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(options.timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  return (address, port) => {
    const key = `${address}:${port}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < options.cacheMs) return hit.answer;
    if (cache.size > 10_000) cache.clear();
    const answer = connect(address, port);
    cache.set(key, { at: now(), answer });
    return answer;
  };
}
