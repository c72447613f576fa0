/**
 * Gateway benchmark (issue 4, part 3): `node scripts/bench/gateway.ts [options]`
 *
 * In one run on loopback:
 * 1. Throughput through one forward, and through 64 parallel forwards, of our gateway and of
 *    `socat TCP-LISTEN:P,fork,reuseaddr TCP:127.0.0.1:SINK` doing the same forwarding, to the
 *    same sink, with the same byte counts; the ratio gateway / socat (target ≥ 0.8).
 * 2. 3,000 forwards open at once: memory per forward (RSS delta / 3000), accept latency
 *    (connect to first echo byte, p50/p99 over a sample), then one live connection on every
 *    forward at the same time.
 *
 * The gateway runs as its own process (functions/gateway/cli.ts), the sink and echo servers
 * in another, the clients in this one, so none of them measures itself.
 *
 * Options: --single-mib 1024  --parallel 64  --parallel-mib 64  --runs 3  --forwards 3000
 *          --latency-sample 1000  --workers N (GATEWAY_WORKERS; default: the gateway's)
 *          --quick (small sizes, for a smoke run)
 * Default runs: 5, alternating which of the two goes first; the median is reported with the
 * range, and the load average before and after, since other work on the machine skews it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HttpGatewayControl } from '../../functions/adapters/gateway/gateway-client.ts';
import type {
  ForwardSpec,
  GatewayEndpoint,
  OpenForward,
} from '../../functions/core/gateways/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- sink / echo process

/** Role `sink`: a sink (counts to EOF, answers the count) and an echo server. */
async function runSinkRole(): Promise<void> {
  const sink = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    let count = 0;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      count += chunk.length;
    });
    socket.on('end', () => socket.end(`${count}\n`));
  });
  const echo = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  sink.listen(0, '127.0.0.1');
  echo.listen(0, '127.0.0.1');
  await Promise.all([once(sink, 'listening'), once(echo, 'listening')]);
  process.stdout.write(
    `${JSON.stringify({
      sinkPort: (sink.address() as AddressInfo).port,
      echoPort: (echo.address() as AddressInfo).port,
    })}\n`,
  );
  process.on('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------- helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtBytes = (b: number) =>
  b >= 1024 * MiB
    ? `${fmt(b / (1024 * MiB), b % (1024 * MiB) ? 1 : 0)} GiB`
    : `${fmt(b / MiB)} MiB`;

/** Runs `tasks` with at most `limit` in flight. */
async function limited<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const chunk = Buffer.alloc(MiB, 0x61);

/**
 * Sends `bytes` to the port and half-closes; the sink answers its count at EOF.
 * Resolves the time from connect to that answer, ms.
 */
function push(port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    let sent = 0;
    let reply = '';
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      reply += text;
    });
    socket.once('end', () => {
      const ms = performance.now() - started;
      socket.destroy();
      if (Number(reply.trim()) !== bytes) {
        reject(
          new Error(
            `through port ${port}: the sink answered ${reply.trim() || 'nothing'} for ${bytes} bytes`,
          ),
        );
      } else {
        resolve(ms);
      }
    });
    socket.once('error', reject);
  });
}

/** Connect, send one byte, wait for its echo: ms. Keeps the socket open when `hold`. */
function echoOnce(port: number, hold?: Socket[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => {
      const ms = performance.now() - started;
      if (hold) hold.push(socket);
      else socket.destroy();
      resolve(ms);
    });
    socket.once('error', reject);
  });
}

// ---------------------------------------------------------------- processes

const children: ChildProcess[] = [];

/** PIDs of a process's children (Linux /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Stops every process this run started and waits for them, so none is left behind (a socat
 * parent is given a moment to reap its own forked children first).
 */
async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = once(child, 'exit');
      if (child.spawnargs[0] === 'socat') {
        for (let i = 0; i < 40 && childPids(child.pid).length > 0; i++) await sleep(50);
        for (const pid of childPids(child.pid)) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // gone already
          }
        }
        await sleep(50);
      }
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3_000)]);
    }),
  );
}

async function startSinkProcess(): Promise<{ sinkPort: number; echoPort: number; pid: number }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role=sink'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { ...JSON.parse(line.toString()), pid: child.pid! };
}

interface GatewayProcess {
  readonly pid: number;
  readonly endpoint: GatewayEndpoint;
  stop(): Promise<void>;
}

async function startGatewayProcess(secret: string, workers?: string): Promise<GatewayProcess> {
  const controlPort = await freePort();
  const httpPort = await freePort();
  const child = spawn(process.execPath, [join(root, 'functions/gateway/cli.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      GATEWAY_NAME: 'bench',
      GATEWAY_SECRET: secret,
      GATEWAY_PORT_RANGE: '20001-23000',
      GATEWAY_BIND: '127.0.0.1',
      GATEWAY_CONTROL_PORT: String(controlPort),
      GATEWAY_CONTROL_BIND: '127.0.0.1',
      GATEWAY_HTTP_PORT: String(httpPort),
      GATEWAY_HTTP_BIND: '127.0.0.1',
      LOG_LEVEL: 'WARN',
      ...(workers ? { GATEWAY_WORKERS: workers } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const endpoint = { name: 'bench', controlUrl: `http://127.0.0.1:${controlPort}` };
  const control = new HttpGatewayControl({ secret });
  await waitFor(
    () =>
      control.ping(endpoint).then(
        () => true,
        () => false,
      ),
    'the gateway',
  );
  return {
    pid: child.pid!,
    endpoint,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startSocat(sinkPort: number): Promise<{ port: number; version: string }> {
  const port = await freePort();
  const child = spawn(
    'socat',
    // -t 30: after the client's EOF, wait for the sink's answer (socat's default is 0.5 s, too
    // short on a loaded machine). It does not change the forwarding itself.
    [
      '-t',
      '30',
      `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,backlog=511`,
      `TCP:127.0.0.1:${sinkPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(child);
  await waitFor(() => portAccepts(port), 'socat');
  const version = /socat version (\S+)/.exec(execFileSync('socat', ['-V']).toString())?.[1] ?? '?';
  return { port, version };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      'single-mib': { type: 'string', default: '1024' },
      parallel: { type: 'string', default: '64' },
      'parallel-mib': { type: 'string', default: '64' },
      runs: { type: 'string', default: '5' },
      forwards: { type: 'string', default: '3000' },
      'latency-sample': { type: 'string', default: '1000' },
      quick: { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
  });
  if (values.role === 'sink') return runSinkRole();

  const quick = values.quick;
  const singleBytes = Number(quick ? 64 : values['single-mib']) * MiB;
  const parallel = Number(quick ? 8 : values.parallel);
  const parallelBytes = Number(quick ? 8 : values['parallel-mib']) * MiB;
  const runs = Number(quick ? 1 : values.runs);
  const forwardCount = Number(quick ? 300 : values.forwards);
  const latencySample = Math.min(forwardCount, Number(quick ? 100 : values['latency-sample']));

  execFileSync('bash', [join(here, '../debian-packages.sh'), 'socat'], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      void stopAll().then(() => process.exit(130));
    });
  }

  const secret = randomBytes(24).toString('hex');
  const control = new HttpGatewayControl({ secret, timeoutMs: 10_000 });
  const sinkProcess = await startSinkProcess();
  const socat = await startSocat(sinkProcess.sinkPort);
  const cpus = os.cpus();
  const started = new Date();
  console.log(
    `deskbroker gateway benchmark — ${started.toISOString()}\n` +
      `machine: ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? '?'}), ` +
      `${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.type()} ${os.release()}; ` +
      `node ${process.version}; socat ${socat.version}; load average ${loadavg()}\n`,
  );

  // ---- throughput
  let gateway = await startGatewayProcess(secret, values.workers);
  const expiresAt = Date.now() + 3_600_000;
  const openForward = (key: string, desktopPort: number): Promise<OpenForward> =>
    control.open(gateway.endpoint, {
      key,
      desktopHost: '127.0.0.1',
      desktopPort,
      clientIp: '127.0.0.1',
      expiresAt,
    });
  const single = await openForward('bench-single', sinkProcess.sinkPort);
  const many = await Promise.all(
    Array.from({ length: parallel }, (_, i) => openForward(`bench-par-${i}`, sinkProcess.sinkPort)),
  );

  const runSingle = (port: number) => push(port, singleBytes);
  const runParallel = async (ports: number[]) => {
    const t0 = performance.now();
    await Promise.all(ports.map((p) => push(p, parallelBytes)));
    return performance.now() - t0;
  };

  // Warm-up (JIT, socket buffers), not counted.
  await push(single.listenPort, 64 * MiB);
  await push(socat.port, 64 * MiB);

  const times = {
    gwSingle: [] as number[],
    soSingle: [] as number[],
    gwPar: [] as number[],
    soPar: [] as number[],
  };
  for (let r = 0; r < runs; r++) {
    // Alternate who goes first, so neither always gets the cooler machine.
    const gatewayFirst = r % 2 === 0;
    const a = () => runSingle(single.listenPort).then((ms) => times.gwSingle.push(ms));
    const b = () => runSingle(socat.port).then((ms) => times.soSingle.push(ms));
    if (gatewayFirst) {
      await a();
      await b();
    } else {
      await b();
      await a();
    }
    const c = () => runParallel(many.map((f) => f.listenPort)).then((ms) => times.gwPar.push(ms));
    const d = () =>
      runParallel(Array.from({ length: parallel }, () => socat.port)).then((ms) =>
        times.soPar.push(ms),
      );
    if (gatewayFirst) {
      await c();
      await d();
    } else {
      await d();
      await c();
    }
    process.stderr.write(`  throughput run ${r + 1}/${runs} done\n`);
  }
  await gateway.stop();

  const parTotal = parallel * parallelBytes;
  const rate = (bytes: number, ms: number[]) => {
    const all = ms.map((t) => mbps(bytes, t)).sort((a, b) => a - b);
    return { median: median(all), min: all[0]!, max: all.at(-1)! };
  };
  const cell = (r: { median: number; min: number; max: number }) =>
    runs > 1 ? `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})` : fmt(r.median);
  const singleGw = rate(singleBytes, times.gwSingle);
  const singleSo = rate(singleBytes, times.soSingle);
  const parGw = rate(parTotal, times.gwPar);
  const parSo = rate(parTotal, times.soPar);
  // The ratio of each run's pair (run back to back), then the median: drift in the machine's
  // load between runs cancels out.
  const pairedRatio = (gw: number[], so: number[]) => {
    const all = gw.map((t, i) => so[i]! / t).sort((a, b) => a - b);
    return { median: median(all), min: all[0]!, max: all.at(-1)! };
  };
  const singleR = pairedRatio(times.gwSingle, times.soSingle);
  const parR = pairedRatio(times.gwPar, times.soPar);
  const ratioCell = (r: { median: number; min: number; max: number }) =>
    runs > 1 ? `${fmt(r.median, 2)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)})` : `${fmt(r.median, 2)}×`;
  const singleRatio = singleR.median;
  const parRatio = parR.median;

  console.log(
    `Throughput, client → forward → sink on 127.0.0.1 (MB/s = 10^6 bytes/s; median of ${runs} run(s), range in brackets; ratio = median of the runs' gateway/socat pairs)\n`,
  );
  console.log('| test | bytes | gateway MB/s | socat MB/s | gateway / socat |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  console.log(
    `| 1 forward | ${fmtBytes(singleBytes)} | ${cell(singleGw)} | ${cell(singleSo)} | ${ratioCell(singleR)} |`,
  );
  console.log(
    `| ${parallel} parallel forwards | ${parallel} × ${fmtBytes(parallelBytes)} | ${cell(parGw)} | ${cell(parSo)} | ${ratioCell(parR)} |`,
  );
  console.log('');

  // ---- scale: N forwards at once
  gateway = await startGatewayProcess(secret, values.workers);
  await sleep(500);
  const rssBefore = rssOf(gateway.pid);
  const specs: ForwardSpec[] = Array.from({ length: forwardCount }, (_, i) => ({
    key: `bench-${i}-${randomBytes(8).toString('hex')}`,
    desktopHost: '127.0.0.1',
    desktopPort: sinkProcess.echoPort,
    clientIp: '127.0.0.1',
    expiresAt,
  }));
  const opened: OpenForward[] = [];
  const t0 = performance.now();
  await limited(specs, 64, async (s) => {
    opened.push(await control.open(gateway.endpoint, s));
  });
  const openMs = performance.now() - t0;
  await sleep(500);
  const rssForwards = rssOf(gateway.pid);
  const info = await control.info(gateway.endpoint);
  if (info.forwards !== forwardCount) throw new Error(`only ${info.forwards} forwards open`);

  // Accept latency: sequential, one connection at a time, spread over the forwards.
  const step = Math.max(1, Math.floor(opened.length / latencySample));
  const latencies: number[] = [];
  for (let i = 0; i < opened.length && latencies.length < latencySample; i += step) {
    latencies.push(await echoOnce(opened[i]!.listenPort));
  }
  latencies.sort((a, b) => a - b);
  const socatLatencies: number[] = [];
  const echoSocat = spawn(
    'socat',
    [
      `TCP-LISTEN:${await freePort()},bind=127.0.0.1,fork,reuseaddr,backlog=511`,
      `TCP:127.0.0.1:${sinkProcess.echoPort}`,
    ],
    { stdio: 'ignore' },
  );
  children.push(echoSocat);
  const echoSocatPort = Number(/TCP-LISTEN:(\d+)/.exec(echoSocat.spawnargs.join(' '))![1]);
  await waitFor(() => portAccepts(echoSocatPort), 'socat (echo)');
  for (let i = 0; i < Math.min(latencySample, 300); i++) {
    socatLatencies.push(await echoOnce(echoSocatPort));
  }
  socatLatencies.sort((a, b) => a - b);

  // One live connection on every forward at the same time.
  const held: Socket[] = [];
  const tLive = performance.now();
  await limited(opened, 200, async (f) => {
    await echoOnce(f.listenPort, held);
  });
  const liveMs = performance.now() - tLive;
  await sleep(500);
  const infoLive = await control.info(gateway.endpoint);
  const rssLive = rssOf(gateway.pid);
  for (const s of held) s.destroy();

  const tClose = performance.now();
  await limited(opened, 64, (f) => control.close(gateway.endpoint, f.key));
  const closeMs = performance.now() - tClose;
  await gateway.stop();

  console.log(`Scale: ${fmt(forwardCount)} forwards open at once in one gateway process\n`);
  console.log('| measure | value |');
  console.log('| --- | ---: |');
  console.log(
    `| open ${fmt(forwardCount)} forwards (signed control calls, 64 in flight) | ${fmt(openMs / 1000, 2)} s (${fmt(forwardCount / (openMs / 1000))} /s) |`,
  );
  console.log(`| gateway RSS, idle before | ${fmt(rssBefore / MiB, 1)} MiB |`);
  console.log(
    `| gateway RSS, ${fmt(forwardCount)} forwards open | ${fmt(rssForwards / MiB, 1)} MiB |`,
  );
  console.log(
    `| memory per forward (RSS delta / ${fmt(forwardCount)}) | ${fmt((rssForwards - rssBefore) / forwardCount / 1024, 1)} KiB |`,
  );
  console.log(
    `| accept latency, connect → first echo, p50 / p99 / max (n=${latencies.length}) | ${fmt(percentile(latencies, 50), 3)} / ${fmt(percentile(latencies, 99), 3)} / ${fmt(latencies.at(-1)!, 3)} ms |`,
  );
  console.log(
    `| same through socat (fork per connection), p50 / p99 (n=${socatLatencies.length}) | ${fmt(percentile(socatLatencies, 50), 3)} / ${fmt(percentile(socatLatencies, 99), 3)} ms |`,
  );
  console.log(
    `| one live connection on every forward (${fmt(infoLive.connections)} live, all echoed) | ${fmt(liveMs / 1000, 2)} s to set up |`,
  );
  console.log(
    `| gateway RSS with ${fmt(infoLive.connections)} live connections | ${fmt(rssLive / MiB, 1)} MiB (${fmt((rssLive - rssForwards) / Math.max(1, infoLive.connections) / 1024, 1)} KiB per connection) |`,
  );
  console.log(`| close all ${fmt(forwardCount)} forwards | ${fmt(closeMs / 1000, 2)} s |`);
  console.log('');
  const target = Math.min(singleRatio, parRatio) >= 0.8;
  console.log(
    `Target ≥ 0.8× socat: ${target ? 'met' : 'NOT met'}; ${fmt(forwardCount)} forwards: ${info.forwards === forwardCount ? 'held' : 'NOT held'}. Load average at the end: ${loadavg()}.`,
  );
  await stopAll();
  process.exit(0);
}

main().catch(async (e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  await stopAll();
  process.exit(1);
});
