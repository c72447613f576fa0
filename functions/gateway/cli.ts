/**
 * `deskbroker-gateway`: runs the gateway, or prints the running gateway's state.
 *
 *   deskbroker-gateway            run (Ctrl-C / SIGTERM stop it cleanly)
 *   deskbroker-gateway --info     version, port range, broker forwarding, forwards, running state
 *   deskbroker-gateway --conn     the port-forwarded connections (Desktop, Port, Dport, ...)
 *
 * `--info` and `--conn` read the same environment as the gateway and ask its control API on
 * this host, signed: GATEWAY_SECRET (required), GATEWAY_CONTROL_PORT and GATEWAY_CONTROL_BIND
 * (where to ask; 0.0.0.0 and :: mean loopback), and, for the lines printed when the gateway
 * does not answer, GATEWAY_NAME, GATEWAY_PORT_RANGE and BROKER_URL. Exit codes: 0 done, 1 the
 * gateway is not running or refused, 2 bad usage or configuration.
 */

import { isMainThread } from 'node:worker_threads';
import { HttpGatewayControl } from '../adapters/gateway/gateway-client.ts';
import { createLogger } from '../adapters/logger.ts';
import { GatewayUnavailableError } from '../core/errors.ts';
import type { GatewayEndpoint, OpenForward } from '../core/gateways/ports.ts';
import { type GatewayConfig, GatewayConfigError, loadGatewayConfig } from './config.ts';
import type { GatewayInfo } from './control-api.ts';
import { GATEWAY_VERSION, startGateway } from './gateway.ts';

const USAGE = `usage: deskbroker-gateway [--info | --conn | --help]

  (no option)  run the gateway
  --info       print the running gateway's state
  --conn       list the port-forwarded desktop connections

Configuration comes from the environment; see functions/gateway/config.ts.`;

/** Where the control API of the gateway on this host answers. */
function localControlUrl(config: GatewayConfig): string {
  const bind = config.controlBind;
  let host: string;
  if (bind === '0.0.0.0') host = '127.0.0.1';
  else if (bind === '::') host = '[::1]';
  else host = bind.includes(':') ? `[${bind}]` : bind;
  return `http://${host}:${config.controlPort}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** The `--conn` table, as in the guide's "Listing Leostream Gateway Connections". */
function formatConnections(forwards: readonly OpenForward[]): string {
  return table([
    ['Desktop', 'Port', 'Dport', 'Source address', 'Key'],
    ['-----', '-----', '-----', '-----', '-----'],
    ...forwards.map((f) => [
      f.desktopHost,
      String(f.listenPort),
      String(f.desktopPort),
      f.clientIp,
      f.key,
    ]),
  ]);
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** As the guide's "Guacamole is ENABLED with 1 connection(s)". */
function describeHtml5(html5: GatewayInfo['html5'] | undefined): string {
  if (!html5) return 'HTML5 display is NOT AVAILABLE (older gateway)';
  if (!html5.enabled) return 'HTML5 display is DISABLED (no BROKER_URL to redeem tickets at)';
  return `HTML5 display is ENABLED with ${html5.connections} connection(s) (${megabytes(html5.bytesToClients)} to browsers, ${megabytes(html5.bytesFromClients)} from them; ${html5.refused} ticket(s) refused)`;
}

async function printInfo(config: GatewayConfig): Promise<number> {
  const client = new HttpGatewayControl({ secret: config.secret, timeoutMs: 3_000 });
  const endpoint: GatewayEndpoint = { name: config.name, controlUrl: localControlUrl(config) };
  try {
    const info = await client.info(endpoint);
    console.log(`Gateway name is ${info.name}`);
    console.log(`Port range is ${info.portRange.from}-${info.portRange.to}`);
    console.log(`Gateway version is ${info.version}`);
    console.log(
      info.brokerForwarding.on
        ? `Connection Broker forwarding is ON to ${info.brokerForwarding.target}`
        : 'Connection Broker forwarding is OFF',
    );
    console.log(`${info.forwards} forward(s) with ${info.connections} live connection(s)`);
    console.log(describeHtml5(info.html5));
    console.log(
      `Connections since start: ${info.accepted} accepted, ${info.refused} refused (from another address than the forward's client)`,
    );
    console.log(
      `The Gateway is ${info.state === 'RUNNING' ? 'RUNNING' : 'NOT RUNNING (stopping)'}`,
    );
    return 0;
  } catch (e: unknown) {
    if (!(e instanceof GatewayUnavailableError)) throw e;
    console.log(`Gateway name is ${config.name}`);
    console.log(`Port range is ${config.portRange.from}-${config.portRange.to}`);
    console.log(`Gateway version is ${GATEWAY_VERSION}`);
    console.log(
      config.brokerUrl
        ? `Connection Broker forwarding is ON to ${new URL(config.brokerUrl).host}`
        : 'Connection Broker forwarding is OFF',
    );
    if (e.gatewayStatus === 401) {
      console.log('The Gateway is RUNNING but refused this call (check GATEWAY_SECRET)');
    } else {
      console.log('The Gateway is NOT RUNNING');
    }
    return 1;
  }
}

async function printConnections(config: GatewayConfig): Promise<number> {
  const client = new HttpGatewayControl({ secret: config.secret, timeoutMs: 3_000 });
  const endpoint: GatewayEndpoint = { name: config.name, controlUrl: localControlUrl(config) };
  try {
    console.log(formatConnections(await client.list(endpoint)));
    return 0;
  } catch (e: unknown) {
    if (!(e instanceof GatewayUnavailableError)) throw e;
    console.error(`deskbroker-gateway: ${e.message}`);
    return 1;
  }
}

async function run(config: GatewayConfig): Promise<void> {
  const logger = createLogger('deskbroker-gateway', config.logLevel);
  const gateway = await startGateway(config, {
    logger,
    // A dead forwarding worker lost its forwards: exit, and the restart re-opens them all
    // from the broker's list.
    onFatal: () => process.exit(1),
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info('signal received, stopping', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error('stop failed', { error: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number | undefined> {
  const args = argv.filter((a) => a !== '');
  if (args.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const [option] = args;
  if (option === '--help' || option === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (option !== undefined && !['--info', '--conn', '-conn', '-info'].includes(option)) {
    console.error(`deskbroker-gateway: unknown option ${option}\n${USAGE}`);
    return 2;
  }
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig();
  } catch (e: unknown) {
    if (e instanceof GatewayConfigError) {
      console.error(`deskbroker-gateway: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (option === '--info' || option === '-info') return printInfo(config);
  if (option === '--conn' || option === '-conn') return printConnections(config);
  await run(config);
  return undefined;
}

// In the esbuild bundle the forwarding workers run this same file: only the main thread is the CLI.
if (isMainThread) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`deskbroker-gateway: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
