/**
 * Stand-ins for the far end of a connection: a TCP echo server as a "desktop", a real gateway
 * (the gateway program, in-process), and a check that bytes make the round trip.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createLogger } from '../../functions/adapters/logger.ts';
import type { GatewayConfig } from '../../functions/gateway/config.ts';
import { type RunningGateway, startGateway } from '../../functions/gateway/gateway.ts';

export interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A desktop that echoes every byte, on 127.0.0.1. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Sends `size` random bytes to host:port (from `from`, a loopback source address) and resolves
 * true when exactly the same bytes come back.
 */
export function echoes(
  host: string,
  port: number,
  options: { size?: number; from?: string } = {},
): Promise<boolean> {
  const payload = randomBytes(options.size ?? 64 * 1024);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = net.connect({ host, port, localAddress: options.from });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(5000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('close', () =>
      done(received === payload.length && Buffer.concat(chunks).equals(payload)),
    );
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received >= payload.length) done(Buffer.concat(chunks).equals(payload));
    });
    socket.on('connect', () => socket.write(payload));
  });
}

export const TEST_GATEWAY_SECRET = 'test-gateway-secret-0123456789';

/**
 * The configuration of a gateway on loopback for tests (one forwarding thread, silent). As
 * the real one, it registers with the broker when it has a `brokerUrl`.
 */
export function testGatewayConfig(
  name: string,
  overrides: Partial<GatewayConfig> = {},
): GatewayConfig {
  return {
    name,
    secret: TEST_GATEWAY_SECRET,
    portRange: { from: 20001, to: 23000 },
    bind: '127.0.0.1',
    httpPort: 0,
    httpBind: '127.0.0.1',
    controlPort: 0,
    controlBind: '127.0.0.1',
    trustedProxies: [],
    idleSeconds: 3600,
    connectTimeoutMs: 2000,
    workers: 1,
    logLevel: 'SILENT',
    registration: { on: overrides.brokerUrl !== undefined, tags: ['default'], renewSeconds: 20 },
    ...overrides,
  };
}

/** A gateway on loopback, with the site-configuration entry that names it. */
export async function startTestGateway(
  name: string,
  overrides: Partial<GatewayConfig> = {},
): Promise<{ gateway: RunningGateway; entry: Record<string, unknown>; stop(): Promise<void> }> {
  const config = testGatewayConfig(name, overrides);
  const gateway = await startGateway(config, { logger: createLogger('gateway', 'SILENT') });
  return {
    gateway,
    entry: {
      name,
      address: config.bind,
      publicAddress: config.bind,
      controlUrl: `http://127.0.0.1:${gateway.controlPort}`,
      portRange: [config.portRange.from, config.portRange.to],
    },
    stop: () => gateway.stop(),
  };
}
