/**
 * HTML5 display (the guide's "Leostream HTML5 display rendering"): the gateway's public HTTP
 * face takes a browser's WebSocket at {@link HTML5_PATH} and bridges it to the desktop's TCP
 * port, so the page (noVNC) speaks RFB to the desktop through the gateway.
 *
 * - The browser offers the subprotocols `binary` and `deskbroker.ticket.<ticket>`. The ticket
 *   is checked here first (seal, expiry, client address), then redeemed at the broker, which
 *   makes it single use; only then is the desktop connected. A refusal closes the WebSocket
 *   with a 44xx code (core/gateways/html5-ticket.ts `CLOSE_CODES`) and is logged.
 * - Back-pressure both ways, with a cap: desktop → browser, the desktop socket is paused while
 *   more than `bufferBytes` handed to the WebSocket are not yet written to the browser's
 *   socket; browser → desktop, the WebSocket is paused while the desktop socket's buffer is
 *   full (one message, at most `maxMessageBytes`, can be in flight beyond it). The peak held
 *   by one connection is measured (`peakBufferedBytes`).
 * - Keep-alive: a ping every `keepAliveMs`; a browser that has not answered the previous one
 *   is cut off. No data either way for `idleSeconds` closes the bridge (4002), as forwards do.
 * - Either side ending ends the other: the desktop closing gives 4000; the session's end, a
 *   release or sign-out (`close(key)`) 4001; the gateway stopping 4003.
 */
import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../adapters/logger.ts';
import {
  BRIDGE_PROTOCOL,
  CLOSE_CODES,
  checkClaims,
  closeCodeFor,
  HTML5_PATH,
  KEEPALIVE_MS,
  openTicket,
  type RedeemAnswer,
  type RefusalReason,
  ticketFromProtocols,
  ticketKey,
} from '../core/gateways/html5-ticket.ts';
import { clientIpOf } from './public-http.ts';
import type { TicketRedeemer } from './ticket-redeemer.ts';

export { HTML5_PATH };

/** HTML5 totals, for `/info`, `--info` and the stats line. */
export interface Html5Stats {
  /** Whether the gateway can bridge (it needs BROKER_URL to redeem tickets). */
  readonly enabled: boolean;
  /** Live bridges. */
  readonly connections: number;
  /** Bridges opened since start. */
  readonly accepted: number;
  /** Tickets refused since start (forged, expired, replayed, another address, ...). */
  readonly refused: number;
  readonly bytesFromClients: number;
  readonly bytesToClients: number;
  /** The most bytes one bridge held queued at once, either way, since start. */
  readonly peakBufferedBytes: number;
}

export interface Html5Bridge {
  /** Takes an HTTP upgrade request for {@link HTML5_PATH}. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the bridge opened with ticket `key` (4001); false when there is none. */
  close(key: string): boolean;
  stats(): Html5Stats;
  /** Closes every bridge (4003) and refuses new ones. */
  stop(): Promise<void>;
}

export interface Html5BridgeOptions {
  readonly secret: string;
  /** Undefined turns HTML5 display off (no BROKER_URL to redeem at). */
  readonly redeem: TicketRedeemer | undefined;
  readonly trustedProxies: readonly string[];
  readonly logger: Logger;
  readonly idleSeconds: number;
  readonly connectTimeoutMs: number;
  /** @default KEEPALIVE_MS (30 s) */
  readonly keepAliveMs?: number;
  /** Desktop → browser cap per bridge. @default 1 MiB */
  readonly bufferBytes?: number;
  /** Largest message a browser may send. @default 1 MiB */
  readonly maxMessageBytes?: number;
  /** Tolerated clock lead of this gateway over the broker, for the early expiry check. @default 5_000 */
  readonly skewMs?: number;
}

const REFUSED_TEXT: Record<RefusalReason, string> = {
  malformed: 'no valid ticket',
  forged: 'the ticket was not issued by this broker',
  expired: 'the ticket has expired',
  wrong_address: 'the ticket was issued to another address',
  replayed: 'the ticket has been used already',
  revoked: 'the desktop was released after the ticket was issued',
};

interface Bridge {
  readonly ws: WebSocket;
  readonly clientIp: string;
  answer?: RedeemAnswer;
  desktop?: Socket;
  /** Set while the desktop's socket is connected. */
  connected: boolean;
  alive: boolean;
  lastData: number;
  bytesFromClient: number;
  bytesToClient: number;
  timer?: NodeJS.Timeout;
}

export function createHtml5Bridge(options: Html5BridgeOptions): Html5Bridge {
  const { logger } = options;
  const key = ticketKey(options.secret);
  const keepAliveMs = options.keepAliveMs ?? KEEPALIVE_MS;
  const bufferBytes = options.bufferBytes ?? 1024 * 1024;
  const idleMs = options.idleSeconds * 1000;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxMessageBytes ?? 1024 * 1024,
    handleProtocols: (offered) => (offered.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  });
  const bridges = new Set<Bridge>();
  const byKey = new Map<string, Bridge>();
  let stopped = false;
  let accepted = 0;
  let refused = 0;
  let closedFrom = 0;
  let closedTo = 0;
  let peakBufferedBytes = 0;

  const end = (b: Bridge, code: number, reason: string) => {
    if (b.ws.readyState === b.ws.OPEN || b.ws.readyState === b.ws.CONNECTING) {
      // A paused WebSocket would not read the browser's answering close frame.
      b.ws.resume();
      b.ws.close(code, reason);
    }
    b.desktop?.end();
  };

  const refuse = (b: Bridge, reason: RefusalReason) => {
    refused++;
    logger.warn('html5 ticket refused', { reason, clientIp: b.clientIp });
    end(b, closeCodeFor(reason), REFUSED_TEXT[reason]);
  };

  async function admit(b: Bridge, ticket: string | undefined): Promise<void> {
    if (!options.redeem) {
      end(b, CLOSE_CODES.brokerUnavailable, 'HTML5 display is off on this gateway');
      return;
    }
    const opened = openTicket(key, ticket);
    if (!opened.ok) return refuse(b, opened.reason);
    const checked = checkClaims(opened.claims, {
      now: Date.now(),
      clientIp: b.clientIp,
      skewMs: options.skewMs ?? 5_000,
    });
    if (!checked.ok) return refuse(b, checked.reason);
    const outcome = await options.redeem(ticket!, b.clientIp);
    if (b.ws.readyState !== b.ws.OPEN) return;
    if (!outcome.ok) {
      if (outcome.reason !== 'unavailable') return refuse(b, outcome.reason);
      logger.warn('html5 ticket not redeemed: the broker did not answer', {
        clientIp: b.clientIp,
        error: outcome.detail,
      });
      return end(b, CLOSE_CODES.brokerUnavailable, 'the broker did not answer');
    }
    if (stopped) return end(b, CLOSE_CODES.gatewayStopping, 'the gateway is shutting down');
    bridgeTo(b, outcome.answer);
  }

  function bridgeTo(b: Bridge, answer: RedeemAnswer): void {
    b.answer = answer;
    byKey.set(answer.key, b);
    const { ws } = b;
    const desktop = connect({ host: answer.desktopHost, port: answer.desktopPort, noDelay: true });
    b.desktop = desktop;
    desktop.setTimeout(options.connectTimeoutMs, () => {
      if (desktop.connecting) desktop.destroy();
    });
    desktop.on('error', (e) => {
      logger.debug('html5 desktop socket error', { key: answer.key, error: e.message });
    });
    desktop.once('connect', () => {
      desktop.setTimeout(0);
      b.connected = true;
      accepted++;
      b.lastData = Date.now();
      logger.info('html5 connection opened', {
        key: answer.key,
        user: answer.user,
        desktop: `${answer.desktopHost}:${answer.desktopPort}`,
        clientIp: b.clientIp,
      });
      b.timer = setTimeout(
        () => end(b, CLOSE_CODES.sessionEnded, 'the session has ended'),
        Math.max(0, Math.min(answer.closeAt - Date.now(), 2 ** 31 - 1)),
      );
      b.timer.unref();
      ws.resume();
    });
    desktop.on('close', () => {
      const wasConnected = b.connected;
      b.connected = false;
      if (ws.readyState !== ws.OPEN) return;
      if (wasConnected) end(b, CLOSE_CODES.desktopClosed, 'the desktop closed the connection');
      else end(b, CLOSE_CODES.desktopUnreachable, 'the desktop did not answer');
    });

    // Desktop → browser: pause the desktop while too much waits for the browser's socket.
    let queued = 0;
    desktop.on('data', (chunk: Buffer) => {
      b.bytesToClient += chunk.length;
      b.lastData = Date.now();
      queued += chunk.length;
      if (queued > peakBufferedBytes) peakBufferedBytes = queued;
      ws.send(chunk, { binary: true }, () => {
        queued -= chunk.length;
        if (desktop.isPaused() && queued <= bufferBytes / 2) desktop.resume();
      });
      if (queued > bufferBytes) desktop.pause();
    });

    // Browser → desktop: pause the WebSocket while the desktop's socket is full.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        end(b, 1003, 'binary messages only');
        return;
      }
      b.bytesFromClient += data.length;
      b.lastData = Date.now();
      if (!desktop.write(data)) {
        ws.pause();
        const held = desktop.writableLength;
        if (held > peakBufferedBytes) peakBufferedBytes = held;
      }
    });
    desktop.on('drain', () => ws.resume());
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const clientIp = clientIpOf(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      options.trustedProxies,
    );
    const b: Bridge = {
      ws,
      clientIp,
      connected: false,
      alive: true,
      lastData: Date.now(),
      bytesFromClient: 0,
      bytesToClient: 0,
    };
    bridges.add(b);
    // Nothing from the browser is read until the desktop is connected.
    ws.pause();
    ws.on('pong', () => {
      b.alive = true;
    });
    ws.on('error', (e) => logger.debug('html5 websocket error', { error: e.message }));
    ws.on('close', (code) => {
      bridges.delete(b);
      clearTimeout(b.timer);
      b.desktop?.end();
      setTimeout(() => b.desktop?.destroy(), 2_000).unref();
      if (!b.answer) return;
      if (byKey.get(b.answer.key) === b) byKey.delete(b.answer.key);
      closedFrom += b.bytesFromClient;
      closedTo += b.bytesToClient;
      logger.info('html5 connection closed', {
        key: b.answer.key,
        code,
        bytesFromClient: b.bytesFromClient,
        bytesToClient: b.bytesToClient,
      });
    });
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    admit(b, ticketFromProtocols(offered)).catch((e: unknown) => {
      logger.error('html5 bridge failed', { error: e });
      end(b, 1011, 'the gateway failed');
    });
  }

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const b of bridges) {
      if (!b.alive) {
        logger.info('html5 browser stopped answering pings', { key: b.answer?.key });
        b.ws.terminate();
        continue;
      }
      if (b.connected && now - b.lastData > idleMs) {
        end(b, CLOSE_CODES.idle, 'no activity');
        continue;
      }
      b.alive = false;
      b.ws.ping();
    }
  }, keepAliveMs);
  heartbeat.unref();

  return {
    handleUpgrade(req, socket, head) {
      if (stopped) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    },
    close(k) {
      const b = byKey.get(k);
      if (!b) return false;
      end(b, CLOSE_CODES.sessionEnded, 'the session was ended by the broker');
      return true;
    },
    stats() {
      let from = closedFrom;
      let to = closedTo;
      let live = 0;
      for (const b of bridges) {
        from += b.bytesFromClient;
        to += b.bytesToClient;
        if (b.connected) live++;
      }
      return {
        enabled: options.redeem !== undefined,
        connections: live,
        accepted,
        refused,
        bytesFromClients: from,
        bytesToClients: to,
        peakBufferedBytes,
      };
    },
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      const closing = [...bridges].map(
        (b) =>
          new Promise<void>((resolve) => {
            b.ws.once('close', () => resolve());
            end(b, CLOSE_CODES.gatewayStopping, 'the gateway is shutting down');
            setTimeout(() => {
              b.ws.terminate();
              resolve();
            }, 2_000).unref();
          }),
      );
      await Promise.all(closing);
      wss.close();
    },
  };
}

/**
 * Routes the HTTP server's upgrade requests: {@link HTML5_PATH} to the bridge, anything else
 * gets 404 (login forwarding does not carry WebSockets).
 */
export function attachHtml5Bridge(server: Server, bridge: Html5Bridge): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === HTML5_PATH && req.method === 'GET') {
      bridge.handleUpgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}
