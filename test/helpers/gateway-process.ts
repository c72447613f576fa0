/**
 * The gateway program in a process of its own (`deskbroker-gateway`, as on Fargate), so a
 * test can kill it with SIGKILL or stop it with SIGTERM. Its JSON log lines are kept for
 * assertions and waits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../lib/bundling.ts';

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
