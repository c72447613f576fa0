/**
 * A DynamoDB stand-in served over HTTP: dynalite, a server that speaks the DynamoDB wire
 * protocol, on loopback. Brokers talk to it through the real AWS SDK client, exactly as they
 * talk to DynamoDB on AWS: `deskbroker state-server` (the shared state table of a local
 * cluster) and the tests of the SDK path. A single local broker keeps its state table in its
 * own process instead (adapters/state/in-process-dynamo.ts), on the same store format.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite on `host:port` (port 0 picks a free one), keeping data under `path`
 * (in memory when absent).
 */
export async function startEmbeddedDynamo(
  options: { path?: string; host?: string; port?: number } = {},
): Promise<EmbeddedDynamo> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({
    path: options.path,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
