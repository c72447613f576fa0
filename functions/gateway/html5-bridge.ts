/**
 * HTML5 display (the guide's "Leostream HTML5 display rendering"): the gateway's public HTTP
 * face takes a browser's WebSocket at {@link HTML5_PATH} and bridges it to the desktop, so
 * the page speaks the desktop's own protocol through the gateway: RFB for VNC (noVNC), RDP
 * for RDP (IronRDP's WebAssembly client, with RDCleanPath: rdcleanpath.ts).
 *
 * - The ticket: VNC browsers offer the subprotocols `binary` and `deskbroker.ticket.<ticket>`;
 *   RDP browsers send it as the proxy authorization of their first message, the RDCleanPath
 *   request. It is checked here first (seal, protocol, expiry, client address), then redeemed
 *   at the broker, which makes it single use; only then is the desktop connected. A refusal
 *   closes the WebSocket with a 44xx code (core/gateways/html5-ticket.ts `CLOSE_CODES`; RDP
 *   browsers first get an RDCleanPath error with an HTTP status) and is logged.
 * - Back-pressure both ways with a cap, measured (html5-relay.ts, `peakBufferedBytes`).
 * - Keep-alive: a ping every `keepAliveMs`; a browser that has not answered the previous one
 *   is cut off. No data either way for `idleSeconds` closes the bridge (4002), as forwards do.
 * - Either side ending ends the other: the desktop closing gives 4000; the session's end, a
 *   release or sign-out (`close(key)`) 4001; the gateway stopping 4003.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../adapters/logger.ts';
import {
  BRIDGE_PROTOCOL,
  type BrowserProtocol,
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
import { connectTcp, DesktopConnectError, rdpHandshake } from './desktop-connect.ts';
import { type RelayCounters, relay } from './html5-relay.ts';
import { clientIpOf } from './public-http.ts';
import {
  decodeRequest,
  encodeError,
  encodeResponse,
  type RDCleanPathRequest,
} from './rdcleanpath.ts';
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

/** How long an RDP browser has to send its RDCleanPath request. */
const FIRST_MESSAGE_MS = 10_000;

const REFUSED_TEXT: Record<RefusalReason, string> = {
  malformed: 'no valid ticket',
  forged: 'the ticket was not issued by this broker',
  expired: 'the ticket has expired',
  wrong_address: 'the ticket was issued to another address',
  replayed: 'the ticket has been used already',
  revoked: 'the desktop was released after the ticket was issued',
};

interface Bridge extends RelayCounters {
  readonly ws: WebSocket;
  readonly clientIp: string;
  /** An RDP browser (no ticket subprotocol): it reads RDCleanPath PDUs, errors included. */
  rdpClient?: boolean;
  /** Its RDCleanPath request. */
  rdp?: RDCleanPathRequest;
  answer?: RedeemAnswer;
  desktop?: Socket;
  /** Set while the desktop's socket is connected. */
  connected: boolean;
  alive: boolean;
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

  /** Tells an RDCleanPath client why (its own error PDU) before the close code. */
  const rdcleanpathError = (b: Bridge, httpStatus: number) => {
    if (b.rdpClient && b.ws.readyState === b.ws.OPEN) b.ws.send(encodeError(httpStatus));
  };

  const refuse = (b: Bridge, reason: RefusalReason) => {
    refused++;
    logger.warn('html5 ticket refused', { reason, clientIp: b.clientIp });
    rdcleanpathError(b, reason === 'malformed' || reason === 'forged' ? 401 : 403);
    end(b, closeCodeFor(reason), REFUSED_TEXT[reason]);
  };

  /** Checks the ticket here, then redeems it at the broker; the answer, or undefined when refused. */
  async function admit(
    b: Bridge,
    ticket: string | undefined,
    protocol: BrowserProtocol,
  ): Promise<RedeemAnswer | undefined> {
    if (!options.redeem) {
      rdcleanpathError(b, 502);
      end(b, CLOSE_CODES.brokerUnavailable, 'HTML5 display is off on this gateway');
      return undefined;
    }
    const opened = openTicket(key, ticket);
    if (!opened.ok) return void refuse(b, opened.reason);
    // A ticket is for one protocol: a VNC ticket opens no RDP session, and back.
    if (opened.claims.protocol !== protocol) return void refuse(b, 'malformed');
    const checked = checkClaims(opened.claims, {
      now: Date.now(),
      clientIp: b.clientIp,
      skewMs: options.skewMs ?? 5_000,
    });
    if (!checked.ok) return void refuse(b, checked.reason);
    const outcome = await options.redeem(ticket!, b.clientIp);
    if (b.ws.readyState !== b.ws.OPEN) return undefined;
    if (!outcome.ok) {
      if (outcome.reason !== 'unavailable') return void refuse(b, outcome.reason);
      logger.warn('html5 ticket not redeemed: the broker did not answer', {
        clientIp: b.clientIp,
        error: outcome.detail,
      });
      rdcleanpathError(b, 502);
      end(b, CLOSE_CODES.brokerUnavailable, 'the broker did not answer');
      return undefined;
    }
    if (stopped) {
      end(b, CLOSE_CODES.gatewayStopping, 'the gateway is shutting down');
      return undefined;
    }
    return outcome.answer;
  }

  /** Admits the ticket, connects the desktop (RDP: the RDCleanPath steps), then relays. */
  async function start(
    b: Bridge,
    ticket: string | undefined,
    protocol: BrowserProtocol,
  ): Promise<void> {
    const answer = await admit(b, ticket, protocol);
    if (!answer) return;
    b.answer = answer;
    byKey.set(answer.key, b);
    const { desktopHost: host, desktopPort: port } = answer;
    let tcp: Socket | undefined;
    try {
      tcp = await connectTcp(host, port, options.connectTimeoutMs);
      let desktop: Socket = tcp;
      if (b.rdp) {
        const h = await rdpHandshake(tcp, b.rdp.x224, options.connectTimeoutMs);
        desktop = h.secure;
        if (b.ws.readyState === b.ws.OPEN) {
          b.ws.send(
            encodeResponse({
              x224: h.x224Confirm,
              certificateChain: h.certificateChain,
              serverAddr: `${host}:${port}`,
            }),
          );
        }
      }
      if (b.ws.readyState !== b.ws.OPEN) {
        desktop.destroy();
        return;
      }
      connected(b, desktop);
    } catch (e: unknown) {
      tcp?.destroy();
      if (!(e instanceof DesktopConnectError)) throw e;
      logger.warn('html5 desktop did not answer', {
        key: answer.key,
        desktop: `${host}:${port}`,
        error: e.message,
      });
      rdcleanpathError(b, 502);
      end(b, CLOSE_CODES.desktopUnreachable, 'the desktop did not answer');
    }
  }

  function connected(b: Bridge, desktop: Socket): void {
    const { ws } = b;
    const answer = b.answer!;
    b.desktop = desktop;
    b.connected = true;
    accepted++;
    b.lastData = Date.now();
    logger.info('html5 connection opened', {
      key: answer.key,
      user: answer.user,
      protocol: answer.protocol,
      desktop: `${answer.desktopHost}:${answer.desktopPort}`,
      clientIp: b.clientIp,
    });
    b.timer = setTimeout(
      () => end(b, CLOSE_CODES.sessionEnded, 'the session has ended'),
      Math.max(0, Math.min(answer.closeAt - Date.now(), 2 ** 31 - 1)),
    );
    b.timer.unref();
    desktop.on('error', (e) => {
      logger.debug('html5 desktop socket error', { key: answer.key, error: e.message });
    });
    relay(ws, desktop, {
      bufferBytes,
      counters: b,
      onBuffered: (bytes) => {
        if (bytes > peakBufferedBytes) peakBufferedBytes = bytes;
      },
      onDesktopClosed: () => {
        b.connected = false;
        if (ws.readyState === ws.OPEN) {
          end(b, CLOSE_CODES.desktopClosed, 'the desktop closed the connection');
        }
      },
      onTextMessage: () => end(b, 1003, 'binary messages only'),
    });
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
    const failed = (e: unknown) => {
      logger.error('html5 bridge failed', { error: e });
      end(b, 1011, 'the gateway failed');
    };
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const ticket = ticketFromProtocols(offered);
    if (ticket !== undefined || offered.includes(BRIDGE_PROTOCOL)) {
      // VNC (noVNC): the ticket comes with the handshake (none: refused at once); nothing
      // from the browser is read until the desktop is connected.
      ws.pause();
      start(b, ticket, 'vnc').catch(failed);
      return;
    }
    // RDP (IronRDP): the first message is the RDCleanPath request, its proxy_auth the ticket.
    b.rdpClient = true;
    const wait = setTimeout(() => refuse(b, 'malformed'), FIRST_MESSAGE_MS);
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(wait);
      ws.pause();
      const request = isBinary ? decodeRequest(data) : undefined;
      if (!request) return refuse(b, 'malformed');
      b.rdp = request;
      start(b, request.proxyAuth, 'rdp').catch(failed);
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
