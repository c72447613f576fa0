/**
 * The embedded state-table service of the local runtime: dynalite, an in-process server that
 * speaks the DynamoDB wire protocol, on loopback. The broker talks to it through the real AWS
 * SDK client, exactly as it talks to DynamoDB on AWS.
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
