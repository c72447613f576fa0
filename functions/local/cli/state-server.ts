/**
 * `deskbroker state-server`: the embedded DynamoDB stand-in on its own, so that several local
 * brokers (a cluster behind a load balancer) share one state table: a session made on one
 * broker is known to the next. Point each broker at it with DYNAMODB_ENDPOINT.
 */
import path from 'node:path';
import { loadConfig } from '../../config.ts';
import { startEmbeddedDynamo } from '../embedded-dynamo.ts';
import type { Command } from './shared.ts';

export const stateServerCommand: Command = {
  usage: 'state-server [--port 8000] [--host 127.0.0.1] [--data DIR]',
  summary: 'run the state table (DynamoDB stand-in) for a local cluster of brokers',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
  },
  async run(flags, _positionals, env) {
    const port = typeof flags.port === 'string' ? Number(flags.port) : 8000;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error('deskbroker state-server: --port must be a port number');
      return 2;
    }
    const config = loadConfig(env);
    const data =
      typeof flags.data === 'string' ? flags.data : path.join(config.home, 'state', 'shared');
    const server = await startEmbeddedDynamo({
      path: data,
      host: typeof flags.host === 'string' ? flags.host : '127.0.0.1',
      port,
    });
    console.log(
      [
        `deskbroker state server is running at ${server.endpoint}`,
        `  data       ${data}`,
        `  brokers    DYNAMODB_ENDPOINT=${server.endpoint} npx deskbroker serve ...`,
        'Press Ctrl-C to stop.',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    console.log('deskbroker state server: stopped');
    return 0;
  },
};
