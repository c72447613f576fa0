/**
 * The gateway program put together: the forwarder, the control API for the broker, the
 * public HTTP face (ping and login forwarding), the start-up forward recovery, and the
 * registration with the broker (renewed while it runs, withdrawn when it stops).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pkg from '../../package.json' with { type: 'json' };
import type { Logger } from '../adapters/logger.ts';
import { type ForwardSync, startForwardSync } from './broker-sync.ts';
import type { GatewayConfig } from './config.ts';
import { createControlApi, type GatewayInfo } from './control-api.ts';
import { ForwarderPool, type ForwardTable } from './forwarder-pool.ts';
import { attachHtml5Bridge, createHtml5Bridge, type Html5Bridge } from './html5-bridge.ts';
import { createPublicHttp } from './public-http.ts';
import { privateAddress, type Registration, startRegistration } from './registration.ts';
import { createTicketRedeemer } from './ticket-redeemer.ts';

/** The gateway's version (the package version). */
export const GATEWAY_VERSION: string = pkg.version;

/** How often the gateway logs its forward and connection counts. */
export const STATS_EVERY_MS = 60_000;

/**
 * The forward table as the control API sees it: closing a key closes the forward, or the
 * HTML5 bridge opened with that ticket (the broker closes both the same way).
 */
function withBridges(forwarder: ForwardTable, html5: Html5Bridge): ForwardTable {
  return {
    open: (spec) => forwarder.open(spec),
    close: async (key) => (await forwarder.close(key)) || html5.close(key),
    get: (key) => forwarder.get(key),
    list: () => forwarder.list(),
    stats: () => forwarder.stats(),
    stop: () => forwarder.stop(),
  };
}

export interface RunningGateway {
  /** Port the control API listens on (useful when configured as 0). */
  readonly controlPort: number;
  /** Port of the public HTTP face. */
  readonly httpPort: number;
  readonly forwarder: ForwardTable;
  /** Threads forwarding. */
  readonly workers: number;
  /** The start-up recovery from the broker; undefined when BROKER_URL is unset. */
  readonly sync?: ForwardSync;
  /** HTML5 display: browsers' WebSockets bridged to desktops. */
  readonly html5: Html5Bridge;
  /** The registration with the broker; undefined when off (no BROKER_URL, GATEWAY_REGISTER=off). */
  readonly registration?: Registration;
  info(): Promise<GatewayInfo>;
  /** Deregisters, stops accepting, closes every forward and connection. Idempotent. */
  stop(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}

/** The broker target as `--info` shows it: origin only, never credentials. */
function describeBroker(brokerUrl: string): string {
  const u = new URL(brokerUrl);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/**
 * Starts the gateway. Resolves once the control API and the public HTTP face listen; the
 * start-up forward recovery carries on in the background (see `sync`).
 * @throws when a listen address is taken or invalid (nothing is left open then).
 */
export async function startGateway(
  config: GatewayConfig,
  options: {
    logger: Logger;
    syncInitialDelayMs?: number;
    /** Called when a forwarding worker dies (the CLI exits; the broker re-opens on restart). */
    onFatal?: (error: Error) => void;
  },
): Promise<RunningGateway> {
  const { logger } = options;
  const startedAt = new Date().toISOString();
  let state: GatewayInfo['state'] = 'RUNNING';
  let sync: ForwardSync | undefined;
  let registration: Registration | undefined;
  const forwarder = await ForwarderPool.start({
    bind: config.bind,
    portRange: config.portRange,
    idleSeconds: config.idleSeconds,
    connectTimeoutMs: config.connectTimeoutMs,
    logLevel: config.logLevel,
    workers: config.workers,
    logger,
    onFatal: options.onFatal,
  });

  const html5 = createHtml5Bridge({
    secret: config.secret,
    redeem: config.brokerUrl
      ? createTicketRedeemer({
          brokerUrl: config.brokerUrl,
          secret: config.secret,
          gatewayName: config.name,
          logger,
        })
      : undefined,
    trustedProxies: config.trustedProxies,
    logger,
    idleSeconds: config.idleSeconds,
    connectTimeoutMs: config.connectTimeoutMs,
  });

  const info = async (): Promise<GatewayInfo> => {
    const stats = await forwarder.stats();
    return {
      name: config.name,
      version: GATEWAY_VERSION,
      portRange: config.portRange,
      brokerForwarding: config.brokerUrl
        ? { on: true, target: describeBroker(config.brokerUrl) }
        : { on: false },
      brokerSync: sync ? (sync.state === 'done' ? 'done' : 'pending') : 'off',
      ...stats,
      html5: html5.stats(),
      state,
      startedAt,
      rssBytes: process.memoryUsage.rss(),
    };
  };

  const control = createControlApi({
    secret: config.secret,
    forwarder: withBridges(forwarder, html5),
    info,
    logger,
  });
  const publicHttp = createPublicHttp({
    gatewayName: config.name,
    secret: config.secret,
    brokerUrl: config.brokerUrl,
    trustedProxies: config.trustedProxies,
    // A registered gateway is a member of its tags' clusters; its login tags say so.
    tags: config.registration.on ? config.registration.tags : [],
    logger,
  });
  attachHtml5Bridge(publicHttp, html5);
  let controlPort: number;
  let httpPort: number;
  try {
    controlPort = await listen(control, config.controlPort, config.controlBind);
    httpPort = await listen(publicHttp, config.httpPort, config.httpBind);
  } catch (e: unknown) {
    await Promise.all([
      html5.stop(),
      closeServer(control),
      closeServer(publicHttp),
      forwarder.stop(),
    ]);
    throw e;
  }

  if (config.brokerUrl) {
    sync = startForwardSync({
      brokerUrl: config.brokerUrl,
      gatewayName: config.name,
      secret: config.secret,
      forwarder,
      logger,
      initialDelayMs: options.syncInitialDelayMs,
    });
  }
  if (config.brokerUrl && config.registration.on) {
    registration = await register(config, controlPort, forwarder, logger);
  }
  logger.info('gateway running', {
    name: config.name,
    version: GATEWAY_VERSION,
    control: `${config.controlBind}:${controlPort}`,
    http: `${config.httpBind}:${httpPort}`,
    forwards: `${config.bind}:${config.portRange.from}-${config.portRange.to}`,
    workers: forwarder.workers,
    brokerForwarding: config.brokerUrl ? describeBroker(config.brokerUrl) : 'OFF',
  });

  // One stats line a minute: the deploy turns `activeSessions` (forwards plus HTML5
  // connections: the desktop paths this gateway carries) into the autoscaling metric.
  const stats = setInterval(() => {
    info()
      .then((i) => logger.info('gateway stats', statsLine(i)))
      .catch(() => {});
  }, STATS_EVERY_MS);
  stats.unref();

  let stopping: Promise<void> | undefined;
  return {
    controlPort,
    httpPort,
    forwarder,
    workers: forwarder.workers,
    get sync() {
      return sync;
    },
    html5,
    registration,
    info,
    stop() {
      stopping ??= (async () => {
        state = 'STOPPING';
        clearInterval(stats);
        // First out of the broker's choice, so no new forward comes while the rest closes.
        await registration?.stop();
        sync?.stop();
        await html5.stop();
        await Promise.all([closeServer(publicHttp), closeServer(control), forwarder.stop()]);
        logger.info('gateway stopped', { name: config.name });
      })();
      return stopping;
    },
  };
}

/** The fields of the stats line (one a minute), from the gateway's state. */
export function statsLine(i: GatewayInfo): Record<string, number> {
  const html5 = i.html5 ?? { connections: 0, bytesFromClients: 0, bytesToClients: 0 };
  return {
    activeSessions: i.forwards + html5.connections,
    activeForwards: i.forwards,
    connections: i.connections,
    html5Connections: html5.connections,
    html5BytesFromClients: html5.bytesFromClients,
    html5BytesToClients: html5.bytesToClients,
  };
}

/** Starts the registration with the broker: who this gateway is, where, and its counters. */
async function register(
  config: GatewayConfig,
  controlPort: number,
  forwarder: ForwardTable,
  logger: Logger,
): Promise<Registration> {
  const r = config.registration;
  const address = await privateAddress({
    configured: r.address,
    controlBind: config.controlBind,
    ecsMetadataUri: r.ecsMetadataUri,
  });
  const publicAddress =
    r.publicAddress ??
    (config.bind === '0.0.0.0' || config.bind === '::' ? undefined : config.bind);
  const controlHost = address.includes(':') ? `[${address}]` : address;
  return startRegistration({
    brokerUrl: config.brokerUrl!,
    secret: config.secret,
    logger,
    describe: async () => {
      const stats = await forwarder.stats();
      return {
        name: config.name,
        address,
        ...(publicAddress ? { publicAddress } : {}),
        controlUrl: `http://${controlHost}:${controlPort}`,
        portRange: { from: config.portRange.from, to: config.portRange.to },
        version: GATEWAY_VERSION,
        tags: [...r.tags],
        renewSeconds: r.renewSeconds,
        capacity: { forwards: config.portRange.to - config.portRange.from + 1 },
        stats: {
          forwards: stats.forwards,
          connections: stats.connections,
          bytesFromClients: stats.bytesFromClients,
          bytesToClients: stats.bytesToClients,
        },
      };
    },
  });
}
