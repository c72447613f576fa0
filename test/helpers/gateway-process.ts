/**
 * The gateway program in a process of its own (`deskbroker-gateway`, as on Fargate), so a
 * test can kill it with SIGKILL or stop it with SIGTERM. Its JSON log lines are kept for
 * assertions and waits.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../lib/bundling.ts';
import { TEST_GATEWAY_SECRET } from './desktops.ts';

const execFileAsync = promisify(execFile);

export interface GatewayProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: readonly Record<string, unknown>[];
  /** Resolves with the first log line whose message is `message` (rejects after `timeoutMs`). */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal and resolves when the process has exited. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `deskbroker-gateway` with `env` (over a clean environment plus PATH). */
export function startGatewayProcess(name: string, env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'functions/gateway/cli.ts')], {
    env: { PATH: process.env.PATH ?? '', GATEWAY_NAME: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ message: line });
      }
    }
    for (const wake of waiters) wake();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    logs,
    waitForLog(message, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find((l) => l.message === message);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`gateway ${name} did not log "${message}"; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A gateway process on loopback ports of its own, with its site-configuration entry. */
export interface LoopbackGateway {
  readonly process: GatewayProcess;
  readonly httpPort: number;
  readonly controlPort: number;
  /** Its entry in the site configuration (`webUrl` included: HTML5 display). */
  readonly entry: Record<string, unknown>;
  /** `deskbroker-gateway --info`, as printed. */
  info(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `deskbroker-gateway` on free loopback ports with the test gateway secret, waits for
 * its ping, and gives its site-configuration entry.
 */
export async function startLoopbackGateway(
  name: string,
  env: Record<string, string> = {},
): Promise<LoopbackGateway> {
  const [httpPort, controlPort] = [await freePort(), await freePort()];
  const base = {
    GATEWAY_SECRET: TEST_GATEWAY_SECRET,
    GATEWAY_CONTROL_PORT: String(controlPort),
    GATEWAY_CONTROL_BIND: '127.0.0.1',
    LOG_LEVEL: 'SILENT',
  };
  const gateway = startGatewayProcess(name, {
    ...base,
    GATEWAY_HTTP_PORT: String(httpPort),
    GATEWAY_HTTP_BIND: '127.0.0.1',
    GATEWAY_BIND: '127.0.0.1',
    ...env,
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/app/system/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (gateway.child.exitCode !== null || Date.now() > deadline) {
      await gateway.signal('SIGKILL');
      throw new Error(`gateway ${name} did not start`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const cli = path.join(REPO_ROOT, 'functions/gateway/cli.ts');
  return {
    process: gateway,
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
      const { stdout } = await execFileAsync(process.execPath, [cli, '--info'], {
        env: { PATH: process.env.PATH ?? '', GATEWAY_NAME: name, ...base, ...env },
      }).catch((e: { stdout: string }) => e);
      return stdout;
    },
    async stop(signal = 'SIGTERM') {
      await gateway.signal(signal);
    },
  };
}
