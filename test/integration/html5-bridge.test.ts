/**
 * The gateway's WebSocket bridge on its own, against TCP "desktops" that flood, stall, echo
 * or hang up, with the broker's redeem call answered in-process: back-pressure both ways and
 * its cap (measured), keep-alive, the idle limit, either side ending the other, refusals
 * logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import * as asn1 from 'asn1js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Logger } from '../../functions/adapters/logger.ts';
import {
  BRIDGE_PROTOCOL,
  HTML5_PATH,
  sealTicket,
  ticketKey,
  ticketProtocol,
} from '../../functions/core/gateways/html5-ticket.ts';
import {
  attachHtml5Bridge,
  createHtml5Bridge,
  type Html5Bridge,
  type Html5BridgeOptions,
} from '../../functions/gateway/html5-bridge.ts';
import { RDCLEANPATH_VERSION } from '../../functions/gateway/rdcleanpath.ts';
import type { TicketRedeemer } from '../../functions/gateway/ticket-redeemer.ts';

const SECRET = 'bridge-test-secret-0123456789';
const CAP = 256 * 1024;

/** A logger that keeps what is logged (Powertools' interface, the parts the bridge uses). */
function captureLogger() {
  const lines: { level: string; message: string; details?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push({ level, message, details });
    };
  return {
    lines,
    logger: {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    } as unknown as Logger,
  };
}

interface Desktop {
  readonly port: number;
  readonly sockets: net.Socket[];
  close(): Promise<void>;
}

async function startDesktop(onSocket: (s: net.Socket) => void): Promise<Desktop> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBridge(
  desktopPort: number,
  options: Partial<Html5BridgeOptions> = {},
): Promise<{
  bridge: Html5Bridge;
  url: string;
  ticket: () => string;
  log: ReturnType<typeof captureLogger>;
}> {
  const log = captureLogger();
  const redeem: TicketRedeemer = async () => ({
    ok: true,
    answer: {
      key: randomBytes(16).toString('hex'),
      user: 'tess',
      desktopId: 1,
      desktopHost: '127.0.0.1',
      desktopPort,
      protocol: 'vnc',
      closeAt: Date.now() + 3_600_000,
    },
  });
  const bridge = createHtml5Bridge({
    secret: SECRET,
    redeem,
    trustedProxies: [],
    logger: log.logger,
    idleSeconds: 3600,
    connectTimeoutMs: 2000,
    bufferBytes: CAP,
    ...options,
  });
  const server: Server = createServer((_, res) => res.end());
  attachHtml5Bridge(server, bridge);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () => bridge.stop(),
    () => new Promise<void>((r) => server.close(() => r())),
  );
  const { port } = server.address() as AddressInfo;
  const ticket = () =>
    sealTicket(ticketKey(SECRET), {
      id: randomBytes(16).toString('hex'),
      user: 'tess',
      desktopId: 1,
      host: '127.0.0.1',
      port: desktopPort,
      protocol: 'vnc',
      clientIp: '127.0.0.1',
      issuedAt: Date.now(),
      expiresAt: Date.now() + 30_000,
      closeAt: Date.now() + 3_600_000,
    });
  return { bridge, url: `ws://127.0.0.1:${port}${HTML5_PATH}`, ticket, log };
}

function connectWs(url: string, ticket: string, options: { autoPong?: boolean } = {}) {
  const ws = new WebSocket(url, [BRIDGE_PROTOCOL, ticketProtocol(ticket)], options);
  ws.on('error', () => {});
  cleanups.push(() => ws.terminate());
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', () => reject(new Error('closed before open')));
  });
  return { ws, open, closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTML5 bridge', () => {
  it('holds a slow browser with back-pressure: the desktop is paused at the cap, nothing is lost', async () => {
    const total = 64 * 1024 * 1024;
    const sent = createHash('sha256');
    let written = 0;
    const desktop = await startDesktop((s) => {
      const pump = () => {
        while (written < total) {
          const chunk = randomBytes(64 * 1024);
          sent.update(chunk);
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    cleanups.push(() => desktop.close());
    const { bridge, url, ticket } = await startBridge(desktop.port);
    const client = connectWs(url, ticket());
    await client.open;

    client.ws.pause();
    await sleep(1500);
    const whileStalled = { written, stats: bridge.stats() };
    const received = createHash('sha256');
    let got = 0;
    client.ws.on('message', (d: Buffer) => {
      received.update(d);
      got += d.length;
    });
    client.ws.resume();
    const end = await client.closed;

    // What the desktop could write while the browser read nothing: the gateway's cap plus
    // what the kernel's socket buffers hold on both hops (a few MB on loopback).
    expect(whileStalled.written).toBeLessThan(16 * 1024 * 1024);
    expect(whileStalled.stats.peakBufferedBytes).toBeLessThanOrEqual(CAP + 64 * 1024);
    expect(end.code).toBe(4000);
    expect(got).toBe(total);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(bridge.stats()).toMatchObject({ bytesToClients: total, connections: 0, accepted: 1 });
    console.log(
      `desktop → browser: ${(whileStalled.written / 1048576).toFixed(1)} MiB written by the desktop while the browser stalled; peak held in the gateway ${(whileStalled.stats.peakBufferedBytes / 1024).toFixed(0)} KiB (cap ${CAP / 1024} KiB)`,
    );
  });

  it('holds a slow desktop with back-pressure: the browser is not read while the desktop is full', async () => {
    let desktopSocket: net.Socket | undefined;
    const desktop = await startDesktop((s) => {
      desktopSocket = s;
      s.pause();
    });
    cleanups.push(() => desktop.close());
    const { bridge, url, ticket } = await startBridge(desktop.port);
    const client = connectWs(url, ticket());
    await client.open;
    const sent = createHash('sha256');
    const total = 48 * 1024 * 1024;
    for (let n = 0; n < total; n += 64 * 1024) {
      const chunk = randomBytes(64 * 1024);
      sent.update(chunk);
      client.ws.send(chunk);
    }

    await sleep(1500);
    const waitingInBrowser = client.ws.bufferedAmount;
    const peak = bridge.stats().peakBufferedBytes;
    const received = createHash('sha256');
    let got = 0;
    desktopSocket!.on('data', (d: Buffer) => {
      received.update(d);
      got += d.length;
    });
    desktopSocket!.resume();
    await expect.poll(() => got, { timeout: 20_000 }).toBe(total);

    // Most of it still waited in the browser's own buffer: the gateway stopped reading.
    expect(waitingInBrowser).toBeGreaterThan(total - 16 * 1024 * 1024);
    // The desktop socket's buffer (16 KiB high-water mark) plus one message.
    expect(peak).toBeLessThanOrEqual(CAP + 64 * 1024);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    console.log(
      `browser → desktop: ${((total - waitingInBrowser) / 1048576).toFixed(1)} MiB left the browser while the desktop stalled; peak held in the gateway ${(peak / 1024).toFixed(0)} KiB`,
    );
  });

  it('pings the browser and cuts off one that stops answering', async () => {
    const desktop = await startDesktop(() => {});
    cleanups.push(() => desktop.close());
    const { url, ticket, log } = await startBridge(desktop.port, { keepAliveMs: 200 });
    const alive = connectWs(url, ticket());
    const silent = connectWs(url, ticket(), { autoPong: false });
    await Promise.all([alive.open, silent.open]);
    let pings = 0;
    alive.ws.on('ping', () => pings++);

    const end = await silent.closed;
    await sleep(600);

    expect(end.code).toBe(1006);
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((l) => l.message === 'html5 browser stopped answering pings')).toBe(true);
  });

  it('closes an idle bridge, and either side ending ends the other', async () => {
    const desktop = await startDesktop((s) => s.pipe(s));
    cleanups.push(() => desktop.close());
    const { url, ticket } = await startBridge(desktop.port, { keepAliveMs: 200, idleSeconds: 1 });

    const idle = connectWs(url, ticket());
    await idle.open;
    const idleEnd = await idle.closed;

    const browserEnds = connectWs(url, ticket());
    await browserEnds.open;
    browserEnds.ws.send(Buffer.from('echo'));
    await new Promise((r) => browserEnds.ws.once('message', r));
    const desktopSide = desktop.sockets.at(-1)!;
    const desktopEnded = new Promise((r) => desktopSide.once('close', r));
    browserEnds.ws.close(1000);
    await desktopEnded;

    const desktopEnds = connectWs(url, ticket());
    await desktopEnds.open;
    await expect.poll(() => desktop.sockets.length).toBe(3);
    desktop.sockets.at(-1)!.end();
    const desktopEnd = await desktopEnds.closed;

    expect(idleEnd).toEqual({ code: 4002, reason: 'no activity' });
    expect(desktopEnd).toEqual({ code: 4000, reason: 'the desktop closed the connection' });
  });

  it('refuses and logs a bad ticket without connecting; closes a bridge by its key', async () => {
    let connections = 0;
    const desktop = await startDesktop(() => connections++);
    cleanups.push(() => desktop.close());
    const { bridge, url, ticket, log } = await startBridge(desktop.port);

    const forged = connectWs(url, `${ticket().slice(0, -4)}AAAA`);
    const refusal = await forged.closed;
    const good = connectWs(url, ticket());
    await good.open;
    await expect.poll(() => bridge.stats().connections).toBe(1);
    const key = log.lines.find((l) => l.message === 'html5 connection opened')?.details?.key;
    expect(bridge.close(String(key))).toBe(true);
    const closedByKey = await good.closed;

    expect(refusal.code).toBe(4401);
    expect(connections).toBe(1);
    expect(log.lines).toContainEqual({
      level: 'warn',
      message: 'html5 ticket refused',
      details: { reason: 'forged', clientIp: '127.0.0.1' },
    });
    expect(closedByKey.code).toBe(4001);
    expect(bridge.stats().refused).toBe(1);
  });

  it('refuses an RDP browser with an RDCleanPath error before the close code, never connecting', async () => {
    let connections = 0;
    const desktop = await startDesktop(() => connections++);
    cleanups.push(() => desktop.close());
    const { url, ticket, log } = await startBridge(desktop.port);
    const x224 = Buffer.from('0300000b06e00000000000', 'hex');
    const rdcleanpath = (auth: string) =>
      Buffer.from(
        new asn1.Sequence({
          value: [
            [0, new asn1.Integer({ value: RDCLEANPATH_VERSION })],
            [2, new asn1.Utf8String({ value: 'desk' })],
            [3, new asn1.Utf8String({ value: auth })],
            [6, new asn1.OctetString({ valueHex: x224 })],
          ].map(
            ([n, inner]) =>
              new asn1.Constructed({
                idBlock: { tagClass: 3, tagNumber: n as number },
                value: [inner as asn1.AsnType],
              }),
          ),
        }).toBER(),
      );
    /** Opens an RDP-style WebSocket (no subprotocol), sends `first`, collects the answer. */
    const attempt = async (first: Buffer) => {
      const ws = new WebSocket(url);
      ws.on('error', () => {});
      cleanups.push(() => ws.terminate());
      const messages: Buffer[] = [];
      ws.on('message', (d: Buffer) => messages.push(d));
      await new Promise((r) => ws.once('open', r));
      ws.send(first);
      const [code] = (await once(ws, 'close')) as [number];
      const status = messages[0]
        ? (
            (
              (
                (asn1.fromBER(messages[0]).result as asn1.Sequence).valueBlock
                  .value[1] as asn1.Constructed
              ).valueBlock.value[0] as asn1.Sequence
            ).valueBlock.value[1] as asn1.Constructed
          ).valueBlock.value[0]
        : undefined;
      return { code, status: (status as asn1.Integer | undefined)?.valueBlock.valueDec };
    };

    const forged = await attempt(rdcleanpath(`${ticket().slice(0, -4)}AAAA`));
    const vncTicket = await attempt(rdcleanpath(ticket()));
    const notRdcleanpath = await attempt(Buffer.from('RFB 003.008\n'));

    expect(forged).toEqual({ code: 4401, status: 401 });
    // A VNC ticket opens no RDP session.
    expect(vncTicket).toEqual({ code: 4401, status: 401 });
    expect(notRdcleanpath).toEqual({ code: 4401, status: 401 });
    expect(connections).toBe(0);
    expect(log.lines.filter((l) => l.message === 'html5 ticket refused')).toHaveLength(3);
  });

  it('answers 404 to WebSocket upgrades elsewhere', async () => {
    const { url } = await startBridge(1);
    const other = new WebSocket(url.replace(HTML5_PATH, '/somewhere'));
    const failure = await new Promise<string>((resolve) => {
      other.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      other.on('error', (e) => resolve(e.message));
    });
    expect(failure).toBe('404');
  });
});
