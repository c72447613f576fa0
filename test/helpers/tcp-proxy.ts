/**
 * A TCP proxy that a test can cut and restore: the way to make PostgreSQL (or anything)
 * unreachable for one broker mid-run without stopping the server other tests share.
 * `cut('refuse')` closes the listener and every connection (a stopped server);
 * `cut('blackhole')` keeps accepting but never answers (a server that hangs).
 */
import net, { type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly host: string;
  /** Connections accepted so far (a desktop helper tells by it whether anything got through). */
  connections(): number;
  cut(mode?: 'refuse' | 'blackhole'): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: 'open' | 'refuse' | 'blackhole' = 'open';
  let port = 0;
  let server: net.Server | undefined;
  let accepted = 0;

  const listen = async () => {
    server = net.createServer((client) => {
      accepted++;
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => {});
      if (mode === 'blackhole') return;
      const upstream = net.connect(target);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  };
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  await listen();
  return {
    get port() {
      return port;
    },
    host: '127.0.0.1',
    connections: () => accepted,
    async cut(how = 'refuse') {
      mode = how;
      dropAll();
      if (how === 'refuse') await stopListening();
    },
    async restore() {
      mode = 'open';
      if (!server) await listen();
    },
    async close() {
      dropAll();
      await stopListening();
    },
  };
}
