/**
 * The gateway program in its own process (`node functions/gateway/cli.ts`), as it runs in
 * production: for tests that kill it, and for `--info` read by the CLI.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_GATEWAY_SECRET } from './desktops.ts';

const CLI = path.resolve(import.meta.dirname, '../../functions/gateway/cli.ts');
const execFileAsync = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = (s.address() as AddressInfo) ?? { port: 0 };
      s.close(() => resolve(port));
    });
  });
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly controlPort: number;
  /** Its entry in the site configuration. */
  readonly entry: Record<string, unknown>;
  /** `deskbroker-gateway --info`, as printed. */
  info(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a gateway process on loopback and waits for its ping. */
export async function startGatewayProcess(
  name: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const [httpPort, controlPort] = [await freePort(), await freePort()];
  const base = {
    PATH: process.env.PATH ?? '',
    GATEWAY_NAME: name,
    GATEWAY_SECRET: TEST_GATEWAY_SECRET,
    GATEWAY_CONTROL_PORT: String(controlPort),
    GATEWAY_CONTROL_BIND: '127.0.0.1',
    LOG_LEVEL: 'SILENT',
  };
  const child = spawn(process.execPath, [CLI], {
    env: {
      ...base,
      GATEWAY_HTTP_PORT: String(httpPort),
      GATEWAY_HTTP_BIND: '127.0.0.1',
      GATEWAY_BIND: '127.0.0.1',
      ...env,
    },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/app/system/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway ${name} did not start`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    httpPort,
    controlPort,
    entry: {
      name,
      address: '127.0.0.1',
      publicAddress: '127.0.0.1',
      controlUrl: `http://127.0.0.1:${controlPort}`,
      webUrl: `http://127.0.0.1:${httpPort}`,
    },
    async info() {
      const { stdout } = await execFileAsync(process.execPath, [CLI, '--info'], {
        env: { ...base, ...env },
      }).catch((e: { stdout: string }) => e);
      return stdout;
    },
    stop(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
  };
}
