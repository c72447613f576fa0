/**
 * A Lambda function as deployed, run here: its bundle folder from `cdk.out` copied into an
 * empty folder whose parent holds only the AWS SDK v3 (what the Lambda runtime provides next
 * to Node 22), started in a process of its own by lambda-bootstrap.ts with the function's
 * environment, and invoked with events. Its stdout (logs and EMF lines) is kept.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../lib/bundling.ts';

const BOOTSTRAP = fileURLToPath(new URL('./lambda-bootstrap.ts', import.meta.url));

/**
 * A folder like Lambda's file system: `<root>/node_modules/@aws-sdk` (the runtime's SDK) and
 * nothing else; each function goes into `<root>/<name>/`, so a bare import resolves only to
 * what the bundle carries in its own `node_modules` or to the SDK.
 */
export function lambdaRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-lambda-'));
  mkdirSync(path.join(root, 'node_modules'));
  symlinkSync(
    path.join(REPO_ROOT, 'node_modules', '@aws-sdk'),
    path.join(root, 'node_modules', '@aws-sdk'),
  );
  return root;
}

export interface DeployedFunction {
  readonly name: string;
  /** How long importing the handler module took (the init phase, in ms). */
  readonly loadMs: number;
  /** The function's stdout so far, one entry per line (JSON parsed when it is JSON). */
  readonly output: readonly unknown[];
  // biome-ignore lint/suspicious/noExplicitAny: handlers answer arbitrary JSON.
  invoke(event: unknown): Promise<{ result: any; ms: number }>;
  stop(): Promise<void>;
}

/** Copies the bundle at `assetDir` into `root/name` and starts it with `env`. */
export async function startDeployedFunction(
  root: string,
  name: string,
  assetDir: string,
  env: Record<string, string>,
): Promise<DeployedFunction> {
  const task = path.join(root, name);
  cpSync(assetDir, task, { recursive: true });
  const child: ChildProcess = fork(BOOTSTRAP, [], {
    cwd: task,
    env: { PATH: process.env.PATH ?? '', LAMBDA_TASK_ROOT: task, ...env },
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: unknown[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      try {
        output.push(JSON.parse(line));
      } catch {
        output.push(line);
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const loadMs = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (${code}) while loading: ${stderr}`)),
    );
    child.on(
      'message',
      (m: { type: string; id?: number; ms?: number; error?: unknown; result?: unknown }) => {
        if (m.type === 'loaded') resolve(m.ms!);
        else if (m.type === 'failed') reject(new Error(`${name} did not load: ${String(m.error)}`));
        else {
          const waiter = pending.get(m.id!);
          pending.delete(m.id!);
          if (m.type === 'result') waiter?.resolve({ result: m.result, ms: m.ms } as never);
          else
            waiter?.reject(
              Object.assign(
                new Error(`${name} failed: ${JSON.stringify(m.error)}`),
                m.error as object,
              ),
            );
        }
      },
    );
  });
  child.removeAllListeners('exit');
  return {
    name,
    loadMs,
    output,
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as never, reject });
        child.send({ id, event });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
