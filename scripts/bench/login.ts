/**
 * Login benchmark: a local broker (its own process, the real runtime) on PostgreSQL and a real
 * slapd, driven over HTTP by concurrent clients. Prints logins/s, latency percentiles, SQL
 * round trips and site-database bytes per login, next to the guide's figures.
 *
 *   node scripts/bench/login.ts [--seconds 20] [--concurrency 32] [--users 1000] [--state embedded|server] [--accounts ldap|local] [--profile]
 *
 * `--state server` runs the state table (DynamoDB stand-in) in its own process, as DynamoDB is
 * on AWS; `embedded` (default) keeps it inside the broker process, as `npm start` does.
 * `--accounts local` signs in local accounts (argon2id hashes, checked by the broker) instead
 * of LDAP users (checked by slapd).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Attribute, Change, Client } from 'ldapts';
import pg from 'pg';
import { createTestDatabase } from '../../test/helpers/pg.ts';
import {
  freePort,
  LDAP_GROUP_BASE,
  LDAP_ROOT_DN,
  LDAP_ROOT_PASSWORD,
  LDAP_USER_BASE,
  startSlapd,
  testLdapServerConfig,
} from '../../test/helpers/slapd.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    users: { type: 'string', default: '1000' },
    state: { type: 'string', default: 'embedded' },
    warmup: { type: 'string', default: '3' },
    accounts: { type: 'string', default: 'ldap' },
    profile: { type: 'boolean', default: false },
  },
});
if (args.accounts !== 'ldap' && args.accounts !== 'local')
  throw new Error('--accounts is ldap or local');
const LOCAL = args.accounts === 'local';
const SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const USERS = Number(args.users);
const WARMUP = Number(args.warmup);
const PASSWORD = 'bench-password';
const ADMIN_PASSWORD = 'bench-admin-password';
const ROOT = path.resolve(import.meta.dirname, '../..');

const step = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function addLdapUsers(url: string, count: number): Promise<string[]> {
  const client = new Client({ url });
  await client.bind(LDAP_ROOT_DN, LDAP_ROOT_PASSWORD);
  const names = Array.from({ length: count }, (_, i) => `bench${String(i).padStart(5, '0')}`);
  for (const name of names) {
    await client.add(`uid=${name},${LDAP_USER_BASE}`, {
      objectClass: ['inetOrgPerson'],
      uid: name,
      cn: name,
      sn: name,
      userPassword: PASSWORD,
    });
  }
  await client.modify(
    `cn=Engineers,${LDAP_GROUP_BASE}`,
    new Change({
      operation: 'add',
      modification: new Attribute({
        type: 'member',
        values: names.map((n) => `uid=${n},${LDAP_USER_BASE}`),
      }),
    }),
  );
  await client.unbind();
  return names;
}

function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)),
    );
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy CPU seconds of the whole machine (all cores) so far. */
function machineCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((a, b) => a + b, 0) - idle) / 100;
}

/** CPU seconds of every process whose command line matches. */
function processCpuSeconds(match: RegExp): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (match.test(cmd)) total += cpuSeconds(Number(pid));
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

async function dbStats(url: string, name: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    'select xact_commit + xact_rollback as xacts, pg_database_size($1) as bytes from pg_stat_database where datname = $1',
    [name],
  );
  await client.end();
  return { xacts: Number(rows[0].xacts), bytes: Number(rows[0].bytes) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function load(url: string, users: string[], seconds: number) {
  const latencies: number[] = [];
  const failures = new Map<number, number>();
  // The local runtime's meters, counted at the transport, summed over the logins.
  const meters = { sql: 0, dynamoDb: 0 };
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const user = users[n++ % users.length]!;
        const started = performance.now();
        const answer = await post(`${url}/api/v1/login`, {
          username: user,
          password: PASSWORD,
          client: { name: `pc-${user}` },
        });
        latencies.push(performance.now() - started);
        meters.sql += Number(answer.headers['x-deskbroker-db-round-trips'] ?? 0);
        meters.dynamoDb += Number(answer.headers['x-deskbroker-dynamodb-calls'] ?? 0);
        if (answer.status !== 200)
          failures.set(answer.status, (failures.get(answer.status) ?? 0) + 1);
      }
    }),
  );
  return { latencies, failures, meters };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function main() {
  const home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-bench-'));
  const cleanups: (() => Promise<unknown> | unknown)[] = [
    () => rmSync(home, { recursive: true, force: true }),
  ];
  try {
    step('starting PostgreSQL database and slapd');
    const database = await createTestDatabase('deskbroker_bench');
    cleanups.push(() => database.drop());
    const slapd = await startSlapd();
    cleanups.push(() => slapd.stop());
    step(`adding ${USERS} LDAP users`);
    const users = await addLdapUsers(slapd.url, USERS);

    const env: Record<string, string> = {
      DESKBROKER_HOME: home,
      DESKBROKER_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'ERROR',
      SITE_DB_URL: database.url,
    };
    // --profile writes a CPU profile of the broker to .bench/ (open it in Chrome DevTools).
    if (args.profile) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${path.join(ROOT, '.bench')}`;
    if (args.state === 'server') {
      const port = await freePort();
      const state = await startProcess(
        ['bin/deskbroker.js', 'state-server', '--port', String(port)],
        env,
        /listening|running/i,
      );
      cleanups.push(() => state.kill('SIGTERM'));
      env.DYNAMODB_ENDPOINT = `http://127.0.0.1:${port}`;
    }
    const port = await freePort();
    step('starting the broker');
    const broker = await startProcess(
      ['bin/deskbroker.js', 'serve', '--port', String(port), '--no-demo'],
      env,
      /is running/,
    );
    cleanups.push(() => broker.kill('SIGTERM'));
    const url = `http://127.0.0.1:${port}`;

    const login = await post(`${url}/api/v1/login`, {
      username: 'admin',
      password: ADMIN_PASSWORD,
    });
    const token = JSON.parse(login.text).token as string;
    const config = {
      authServers: [
        ...(LOCAL ? [{ name: 'local', type: 'local' }] : []),
        testLdapServerConfig(slapd.url, { name: 'corp' }),
      ],
      // Local accounts: their passwords are hashed (argon2id) when the configuration applies.
      users: LOCAL
        ? users.map((name) => ({ name, password: PASSWORD, groups: ['Engineers'] }))
        : [],
      roles: [{ name: 'User' }],
      protocolPlans: [{ name: 'rdp', protocols: [{ protocol: 'rdp', port: 3389 }] }],
      pools: [
        {
          name: 'eng',
          desktops: Array.from({ length: 200 }, (_, i) => ({
            name: `eng-${i}`,
            address: `10.0.${i >> 8}.${i & 255}`,
          })),
        },
      ],
      policies: [{ name: 'eng', entries: [{ pool: 'eng', offer: 2, protocolPlan: 'rdp' }] }],
      assignments: [{ group: 'Engineers', role: 'User', policy: 'eng' }],
    };
    const applied = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${url}/api/v1/admin/config`,
        { method: 'PUT', headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(config));
    });
    if (applied !== 200) throw new Error(`applying the bench site failed: ${applied}`);

    step(`warming up for ${WARMUP} s`);
    await load(url, users, WARMUP);
    const before = await dbStats(database.url.replace(/\/[^/]+$/, '/postgres'), database.name);
    const cpuBefore = cpuSeconds(broker.pid!);
    const machineBefore = machineCpuSeconds();
    const othersBefore = {
      slapd: processCpuSeconds(/slapd/),
      postgres: processCpuSeconds(/^postgres/),
      self: process.cpuUsage(),
    };
    step(`measuring for ${SECONDS} s with ${CONCURRENCY} concurrent clients`);
    const started = performance.now();
    const { latencies, failures, meters } = await load(url, users, SECONDS);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(broker.pid!) - cpuBefore;
    const machine = machineCpuSeconds() - machineBefore;
    const selfUsage = process.cpuUsage(othersBefore.self);
    const others = {
      slapd: processCpuSeconds(/slapd/) - othersBefore.slapd,
      postgres: processCpuSeconds(/^postgres/) - othersBefore.postgres,
      client: (selfUsage.user + selfUsage.system) / 1e6,
    };
    const after = await dbStats(database.url.replace(/\/[^/]+$/, '/postgres'), database.name);

    const sorted = [...latencies].sort((a, b) => a - b);
    const ok = latencies.length - [...failures.values()].reduce((a, b) => a + b, 0);
    const rate = ok / elapsed;
    const trips = (after.xacts - before.xacts) / latencies.length;
    const bytes = (after.bytes - before.bytes) / latencies.length;
    const rows: [string, string, string][] = [
      ['logins per second', rate.toFixed(0), `guide: 5 per broker → ${(rate / 5).toFixed(0)}×`],
      [
        'latency p50 / p95 / p99',
        `${pct(sorted, 50).toFixed(1)} / ${pct(sorted, 95).toFixed(1)} / ${pct(sorted, 99).toFixed(1)} ms`,
        'target p99 ≤ 50 ms',
      ],
      [
        'failed logins',
        String(latencies.length - ok),
        [...failures].map(([s, n]) => `${n}× ${s}`).join(', ') || 'none',
      ],
      [
        'SQL round trips per login',
        (meters.sql / latencies.length).toFixed(2),
        `guide: ~30 queries → ${(30 / Math.max(meters.sql / latencies.length, 0.01)).toFixed(0)}× fewer; transactions (pg_stat) ${trips.toFixed(2)}`,
      ],
      [
        'DynamoDB calls per login',
        (meters.dynamoDb / latencies.length).toFixed(2),
        'failed-login counters, session (retries included)',
      ],
      [
        'site database bytes per login',
        bytes.toFixed(0),
        `guide: ~5 KB → ${(5120 / Math.max(bytes, 1)).toFixed(1)}× less`,
      ],
      [
        'broker CPU per login',
        `${((cpu / ok) * 1000).toFixed(2)} ms`,
        `state table: ${args.state}`,
      ],
      [
        'machine CPU per login',
        `${((machine / ok) * 1000).toFixed(2)} ms`,
        `slapd ${((others.slapd / ok) * 1000).toFixed(2)}, postgres ${((others.postgres / ok) * 1000).toFixed(2)}, load generator ${((others.client / ok) * 1000).toFixed(2)} ms`,
      ],
    ];
    console.log(
      `\nlogin benchmark: ${ok} logins in ${elapsed.toFixed(1)} s, ${CONCURRENCY} clients, ${USERS} ${LOCAL ? 'local accounts (argon2id)' : 'LDAP users'}, ${os.availableParallelism()} CPUs`,
    );
    for (const [name, value, note] of rows)
      console.log(`  ${name.padEnd(32)} ${value.padEnd(24)} ${note}`);
  } finally {
    agent.destroy();
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
