/**
 * HTML5 bridge benchmark (issue 12): `node scripts/bench/html5.ts [options]`
 *
 * In one run on loopback, the gateway's WebSocket bridge against Debian's `websockify` doing
 * the same bridging, with the same client (`ws`) and the same TCP servers:
 * 1. Throughput desktop → browser (the direction of screen updates): one connection, and
 *    several in parallel; and browser → desktop, one connection. Ratio gateway / websockify
 *    (target ≥ 0.8).
 * 2. Added latency per message: round trips of 64-byte messages through each bridge to an
 *    echo server, against the same round trips over plain TCP; p50 and p99.
 * 3. Memory per live HTML5 connection (gateway RSS growth / connections), and N connections
 *    (200) held open at once for a minute, each echoing one message a second, without loss.
 *
 * Processes: the broker (`deskbroker serve`, embedded database; it issues and redeems the
 * tickets), the gateway (`node functions/gateway/cli.ts`), the TCP servers (this file, role
 * `servers`), websockify (one per server), and the clients here: none measures itself.
 *
 * Options: --mib 512  --parallel 8  --parallel-mib 64  --up-mib 256  --runs 5
 *          --latency-messages 2000  --connections 200  --hold-seconds 60  --quick
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { BRIDGE_PROTOCOL, ticketProtocol } from '../../functions/core/gateways/html5-ticket.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const MiB = 1024 * 1024;
const SECRET = 'bench-gateway-secret-0123456789';
const ADMIN_PASSWORD = 'bench-admin-password';

// ---------------------------------------------------------------- TCP servers (own process)

/**
 * Role `servers`: `source` (reads an 8-byte length N, sends N bytes), `sink` (reads
 * N, then N bytes, answers `ok`), `echo`.
 */
async function runServersRole(): Promise<void> {
  const block = randomBytes(64 * 1024);
  const withLength = (
    onLength: (socket: import('node:net').Socket, n: number, rest: Buffer) => void,
  ) =>
    createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => {});
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        if (head.length < 8) return;
        socket.off('data', onData);
        onLength(socket, Number(head.readBigUInt64BE(0)), head.subarray(8));
      };
      socket.on('data', onData);
    });
  const source = withLength((socket, n) => {
    let sent = 0;
    const pump = () => {
      while (sent < n) {
        const chunk = n - sent >= block.length ? block : block.subarray(0, n - sent);
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      // Not closed: websockify 0.10 drops what it still holds for the browser when the
      // target closes, so the client closes once it has counted every byte.
    };
    pump();
  });
  const sink = withLength((socket, n, rest) => {
    let got = rest.length;
    const done = () => {
      if (got >= n) socket.end('ok');
    };
    socket.on('data', (d: Buffer) => {
      got += d.length;
      done();
    });
    done();
  });
  const echo = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  for (const s of [source, sink, echo]) s.listen(0, '127.0.0.1');
  await Promise.all([source, sink, echo].map((s) => once(s, 'listening')));
  const port = (s: typeof echo) => (s.address() as AddressInfo).port;
  process.stdout.write(
    `${JSON.stringify({ source: port(source), sink: port(sink), echo: port(echo) })}\n`,
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

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** CPU seconds a process and its reaped children used (Linux /proc, 100 ticks a second). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const lengthHeader = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

// ---------------------------------------------------------------- the two bridges

/** How the client reaches a TCP server through one bridge. */
interface Bridge {
  readonly name: 'gateway' | 'websockify';
  open(server: 'source' | 'sink' | 'echo'): Promise<WebSocket>;
  /** CPU seconds the bridge's processes have used so far. */
  cpu(): number;
}

function openWs(url: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
  });
}

/** Bytes from the source through the bridge: MB/s from the first request to the last byte. */
async function download(bridge: Bridge, bytes: number): Promise<number> {
  const ws = await bridge.open('source');
  const started = performance.now();
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => {
      got += d.length;
      if (got >= bytes) resolve();
    });
    ws.once('close', (code) =>
      got >= bytes
        ? resolve()
        : reject(new Error(`${bridge.name}: short: ${got} of ${bytes} (close ${code})`)),
    );
    ws.send(lengthHeader(bytes));
  });
  const ms = performance.now() - started;
  ws.terminate();
  return mbps(bytes, ms);
}

/** Bytes to the sink through the bridge, in 64 KiB messages, until the sink says `ok`. */
async function upload(bridge: Bridge, bytes: number): Promise<number> {
  const ws = await bridge.open('sink');
  const block = randomBytes(64 * 1024);
  const started = performance.now();
  const acked = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(lengthHeader(bytes));
  for (let sent = 0; sent < bytes; sent += block.length) {
    ws.send(block);
    // Keep a few MiB in flight, as a browser's own send buffer would.
    while (ws.bufferedAmount > 4 * MiB) await sleep(1);
  }
  await acked;
  const ms = performance.now() - started;
  ws.terminate();
  return mbps(bytes, ms);
}

async function parallelDownload(bridge: Bridge, streams: number, bytes: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, () => download(bridge, bytes)));
  return mbps(streams * bytes, performance.now() - started);
}

/** Round trips of `count` 64-byte messages, ms, sorted. */
async function roundTrips(send: (b: Buffer) => Promise<void>, count: number): Promise<number[]> {
  const payload = randomBytes(64);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await send(payload);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

async function bridgeRoundTrips(bridge: Bridge, count: number): Promise<number[]> {
  const ws = await bridge.open('echo');
  let got = 0;
  let waiter: (() => void) | undefined;
  ws.on('message', (d: Buffer) => {
    got += d.length;
    if (got >= 64) {
      got -= 64;
      waiter?.();
    }
  });
  const times = await roundTrips(
    (b) =>
      new Promise((resolve) => {
        waiter = resolve;
        ws.send(b);
      }),
    count,
  );
  ws.terminate();
  return times;
}

async function tcpRoundTrips(port: number, count: number): Promise<number[]> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  let got = 0;
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= 64) {
      got -= 64;
      waiter?.();
    }
  });
  const times = await roundTrips(
    (b) =>
      new Promise((resolve) => {
        waiter = resolve;
        socket.write(b);
      }),
    count,
  );
  socket.destroy();
  return times;
}

/**
 * `connections` bridges to the echo server held for `seconds`, each sending a numbered
 * message every second and checking its echo. Resolves what was lost.
 */
async function hold(
  sockets: WebSocket[],
  seconds: number,
): Promise<{ sent: number; echoed: number; wrong: number; closed: number }> {
  let sent = 0;
  let echoed = 0;
  let wrong = 0;
  let closed = 0;
  const expected = sockets.map(() => [] as string[]);
  sockets.forEach((ws, i) => {
    let pending = '';
    ws.on('message', (d: Buffer) => {
      pending += d.toString('latin1');
      for (;;) {
        const nl = pending.indexOf('\n');
        if (nl < 0) break;
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === expected[i]!.shift()) echoed++;
        else wrong++;
      }
    });
    ws.once('close', () => closed++);
  });
  for (let s = 0; s < seconds; s++) {
    const tick = performance.now();
    sockets.forEach((ws, i) => {
      const line = `${i}:${s}:${randomBytes(8).toString('hex')}`;
      expected[i]!.push(line);
      ws.send(Buffer.from(`${line}\n`, 'latin1'));
      sent++;
    });
    await sleep(Math.max(0, 1000 - (performance.now() - tick)));
  }
  await waitFor(async () => echoed + wrong >= sent || closed > 0, 'the last echoes', 10_000).catch(
    () => {},
  );
  return { sent, echoed, wrong, closed };
}

// ---------------------------------------------------------------- set-up

function startProcess(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

async function json(url: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '512' },
      parallel: { type: 'string', default: '8' },
      'parallel-mib': { type: 'string', default: '64' },
      'up-mib': { type: 'string', default: '256' },
      runs: { type: 'string', default: '5' },
      'latency-messages': { type: 'string', default: '2000' },
      connections: { type: 'string', default: '200' },
      'hold-seconds': { type: 'string', default: '60' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const o = {
    mib: quick ? 32 : Number(values.mib),
    parallel: quick ? 4 : Number(values.parallel),
    parallelMib: quick ? 8 : Number(values['parallel-mib']),
    upMib: quick ? 16 : Number(values['up-mib']),
    runs: quick ? 1 : Number(values.runs),
    latency: quick ? 200 : Number(values['latency-messages']),
    connections: quick ? 20 : Number(values.connections),
    holdSeconds: quick ? 5 : Number(values['hold-seconds']),
  };
  const children: ChildProcess[] = [];
  const home = mkdtempSync(join(os.tmpdir(), 'deskbroker-bench-html5-'));
  const step = (text: string) => process.stderr.write(`… ${text}\n`);
  try {
    step('starting the TCP servers, the broker, the gateway and websockify');
    const servers = startProcess(process.execPath, [fileURLToPath(import.meta.url), 'servers'], {});
    children.push(servers);
    const [line] = (await once(servers.stdout!.setEncoding('utf8'), 'data')) as [string];
    const ports = JSON.parse(line) as { source: number; sink: number; echo: number };

    const brokerPort = await freePort();
    const brokerUrl = `http://127.0.0.1:${brokerPort}`;
    children.push(
      startProcess(
        process.execPath,
        ['bin/deskbroker.js', 'serve', '--port', String(brokerPort), '--no-demo'],
        {
          DESKBROKER_HOME: home,
          DESKBROKER_ADMIN_PASSWORD: ADMIN_PASSWORD,
          GATEWAY_SECRET: SECRET,
          LOG_LEVEL: 'ERROR',
          SESSION_IDLE_MINUTES: '120',
        },
      ),
    );
    const [httpPort, controlPort] = [await freePort(), await freePort()];
    const gateway = startProcess(process.execPath, ['functions/gateway/cli.ts'], {
      GATEWAY_NAME: 'bench-gw',
      GATEWAY_SECRET: SECRET,
      GATEWAY_HTTP_PORT: String(httpPort),
      GATEWAY_HTTP_BIND: '127.0.0.1',
      GATEWAY_CONTROL_PORT: String(controlPort),
      GATEWAY_CONTROL_BIND: '127.0.0.1',
      GATEWAY_BIND: '127.0.0.1',
      BROKER_URL: brokerUrl,
      LOG_LEVEL: 'ERROR',
    });
    children.push(gateway);
    const wsPorts: Record<string, number> = {};
    const websockifies: ChildProcess[] = [];
    for (const server of ['source', 'sink', 'echo'] as const) {
      wsPorts[server] = await freePort();
      websockifies.push(
        startProcess(
          'websockify',
          [`127.0.0.1:${wsPorts[server]}`, `127.0.0.1:${ports[server]}`],
          {},
        ),
      );
    }
    children.push(...websockifies);
    await waitFor(
      async () => (await fetch(`${brokerUrl}/index.pl?action=cb_version`)).ok,
      'the broker',
      60_000,
    );
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/app/system/ping`)).ok,
      'the gateway',
    );

    const admin = (await json(`${brokerUrl}/api/v1/login`, {
      method: 'POST',
      body: { username: 'admin', password: ADMIN_PASSWORD },
    })) as { token: string };
    const kinds = ['source', 'sink', 'echo'] as const;
    await json(`${brokerUrl}/api/v1/admin/config`, {
      method: 'PUT',
      token: admin.token,
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: [{ name: 'bench', password: 'bench-password-1', groups: ['Bench'] }],
        roles: [{ name: 'User' }],
        gateways: [
          {
            name: 'bench-gw',
            address: '127.0.0.1',
            publicAddress: '127.0.0.1',
            controlUrl: `http://127.0.0.1:${controlPort}`,
            webUrl: `http://127.0.0.1:${httpPort}`,
          },
        ],
        protocolPlans: kinds.map((k) => ({
          name: k,
          protocols: [{ protocol: 'vnc', port: ports[k], gateway: 'bench-gw' }],
        })),
        pools: kinds.map((k) => ({
          name: k,
          desktops: [{ name: `${k}-1`, address: '127.0.0.1' }],
        })),
        policies: [
          { name: 'bench', entries: kinds.map((k) => ({ pool: k, offer: 1, protocolPlan: k })) },
        ],
        assignments: [{ group: 'Bench', role: 'User', policy: 'bench' }],
      },
    });
    const session = (await json(`${brokerUrl}/api/v1/login`, {
      method: 'POST',
      body: { username: 'bench', password: 'bench-password-1' },
    })) as { token: string; offers: { desktopId: number; name: string }[] };
    const desktopOf = Object.fromEntries(
      session.offers.map((offer) => [offer.name.replace(/-1$/, ''), offer.desktopId]),
    ) as Record<(typeof kinds)[number], number>;

    const viaGateway: Bridge = {
      name: 'gateway',
      async open(server) {
        const answer = (await json(`${brokerUrl}/api/v1/offers/${desktopOf[server]}/connect`, {
          method: 'POST',
          token: session.token,
          body: { display: 'browser' },
        })) as { webSocket: { url: string; ticket: string } };
        return openWs(answer.webSocket.url, [
          BRIDGE_PROTOCOL,
          ticketProtocol(answer.webSocket.ticket),
        ]);
      },
      cpu: () => cpuOf(gateway.pid!),
    };
    const viaWebsockify: Bridge = {
      name: 'websockify',
      open: (server) => openWs(`ws://127.0.0.1:${wsPorts[server]}/`, [BRIDGE_PROTOCOL]),
      // websockify forks a process per connection; the parent reaps it (cutime, cstime).
      cpu: () => websockifies.reduce((sum, child) => sum + cpuOf(child.pid!), 0),
    };
    for (const server of kinds) {
      await waitFor(async () => {
        (await viaWebsockify.open(server)).terminate();
        return true;
      }, `websockify for ${server}`);
    }

    const loadBefore = loadavg();
    const results: Record<string, { gateway: number[]; websockify: number[] }> = {};
    const cpuPerGb: Record<string, { gateway: number[]; websockify: number[] }> = {};
    const measure = async (name: string, bytes: number, run: (b: Bridge) => Promise<number>) => {
      results[name] = { gateway: [], websockify: [] };
      cpuPerGb[name] = { gateway: [], websockify: [] };
      for (let r = 0; r < o.runs; r++) {
        const order = r % 2 === 0 ? [viaGateway, viaWebsockify] : [viaWebsockify, viaGateway];
        for (const bridge of order) {
          const cpu = bridge.cpu();
          results[name]![bridge.name].push(await run(bridge));
          await sleep(300); // websockify's per-connection process exits and is reaped
          cpuPerGb[name]![bridge.name].push((bridge.cpu() - cpu) / (bytes / 1e9));
        }
      }
    };
    step(`throughput: ${o.runs} runs each, gateway and websockify alternating`);
    await measure(`desktop → browser, 1 connection, ${o.mib} MiB`, o.mib * MiB, (b) =>
      download(b, o.mib * MiB),
    );
    await measure(
      `desktop → browser, ${o.parallel} connections × ${o.parallelMib} MiB`,
      o.parallel * o.parallelMib * MiB,
      (b) => parallelDownload(b, o.parallel, o.parallelMib * MiB),
    );
    await measure(`browser → desktop, 1 connection, ${o.upMib} MiB`, o.upMib * MiB, (b) =>
      upload(b, o.upMib * MiB),
    );

    step(`latency: ${o.latency} round trips of 64 bytes each way`);
    const rtt = {
      tcp: await tcpRoundTrips(ports.echo, o.latency),
      gateway: await bridgeRoundTrips(viaGateway, o.latency),
      websockify: await bridgeRoundTrips(viaWebsockify, o.latency),
    };

    step(`${o.connections} connections through the gateway, held ${o.holdSeconds} s`);
    await sleep(2000);
    const rssBefore = rssOf(gateway.pid!);
    const sockets: WebSocket[] = [];
    const openStarted = performance.now();
    for (let i = 0; i < o.connections; i += 20) {
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(20, o.connections - i) }, () => viaGateway.open('echo')),
        )),
      );
    }
    const openMs = performance.now() - openStarted;
    await sleep(2000);
    const rssOpen = rssOf(gateway.pid!);
    const held = await hold(sockets, o.holdSeconds);
    const rssAfter = rssOf(gateway.pid!);
    for (const ws of sockets) ws.terminate();
    const loadAfter = loadavg();

    // ------------------------------------------------------------ report
    const f = (n: number, d = 0) => n.toFixed(d);
    const range = (v: number[]) => `${f(Math.min(...v))}–${f(Math.max(...v))}`;
    const lines = [
      `HTML5 bridge benchmark, ${new Date().toISOString()}, ${os.cpus().length} CPUs, Node ${process.version}, load average ${loadBefore} before, ${loadAfter} after`,
      '',
      '| test | gateway MB/s | websockify MB/s | gateway / websockify | CPU s per GB, gateway / websockify |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    for (const [name, r] of Object.entries(results)) {
      const ratios = r.gateway.map((g, i) => g / r.websockify[i]!);
      lines.push(
        `| ${name} | ${f(median(r.gateway))} (${range(r.gateway)}) | ${f(median(r.websockify))} (${range(r.websockify)}) | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${median(cpuPerGb[name]!.gateway).toFixed(2)} / ${median(cpuPerGb[name]!.websockify).toFixed(2)} |`,
      );
    }
    lines.push(
      '',
      'CPU: the bridge’s processes (websockify forks one per connection; the gateway bridges in one thread), median of the runs.',
    );
    const ms = (v: number) => v.toFixed(3);
    lines.push(
      '',
      `| 64-byte round trip (n=${o.latency}) | p50 ms | p99 ms | added over TCP, p50 / p99 ms |`,
      '| --- | ---: | ---: | ---: |',
      `| plain TCP to the echo server | ${ms(percentile(rtt.tcp, 50))} | ${ms(percentile(rtt.tcp, 99))} | – |`,
    );
    for (const name of ['gateway', 'websockify'] as const) {
      lines.push(
        `| through ${name} | ${ms(percentile(rtt[name], 50))} | ${ms(percentile(rtt[name], 99))} | ${ms(percentile(rtt[name], 50) - percentile(rtt.tcp, 50))} / ${ms(percentile(rtt[name], 99) - percentile(rtt.tcp, 99))} |`,
      );
    }
    lines.push(
      '',
      '| measure | value |',
      '| --- | ---: |',
      `| open ${o.connections} HTML5 connections (ticket from the broker, redeem, desktop connect; 20 at a time) | ${f(openMs)} ms (${f(openMs / o.connections, 1)} ms each) |`,
      `| gateway RSS before / with ${o.connections} live connections | ${f(rssBefore / MiB, 1)} / ${f(rssOpen / MiB, 1)} MiB |`,
      `| memory per live HTML5 connection (RSS delta / ${o.connections}) | ${f((rssOpen - rssBefore) / o.connections / 1024, 1)} KiB |`,
      `| held ${o.holdSeconds} s, one message a second each: sent / echoed / wrong / closed | ${held.sent} / ${held.echoed} / ${held.wrong} / ${held.closed} |`,
      `| gateway RSS at the end of the hold | ${f(rssAfter / MiB, 1)} MiB |`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    if (held.echoed !== held.sent || held.closed > 0) process.exitCode = 1;
  } finally {
    for (const child of children.reverse()) child.kill('SIGTERM');
    await sleep(500);
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'servers') {
  void runServersRole();
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
