/**
 * Large log downloads. On the local runtime a 50,000-row export (about 55 MB of CSV) streams
 * from a broker in its own process, whose resident memory is sampled throughout: it must not
 * grow by more than 50 MB (holding the rows would). As a Lambda behind an ALB (the same admin
 * handler, built without streaming) the download comes in parts under 1 MB, each naming the
 * next, which together hold every row exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminHandler } from '../../functions/handlers/admin.ts';
import { lambdaContext } from '../../functions/local/alb-server.ts';
import { albEvent } from '../helpers/alb-events.ts';
import { startTestBroker, TEST_ADMIN_PASSWORD, type TestBroker } from '../helpers/broker.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const CLI = path.resolve(import.meta.dirname, '../../bin/deskbroker.js');
const ROWS = 50_000;
const DETAIL = 'x'.repeat(1000);

let database: TestDatabase;
let home: string;

/** 50,000 log rows of about 1.1 KB each, one second apart. */
async function seedLog(broker: TestBroker): Promise<void> {
  const { sql } = await import('kysely');
  await sql`
    INSERT INTO log (at, event, user_name, client_ip, site_id, detail)
    SELECT timestamptz '2026-02-01T00:00:00Z' + i * interval '1 second', 'connect',
      'user' || (i % 100), '10.0.' || (i % 200) || '.' || (i % 250), 1, ${DETAIL} || i
    FROM generate_series(1, ${ROWS}) AS i`.execute(broker.broker.site.db);
}

beforeAll(async () => {
  database = await createTestDatabase();
  home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-export-'));
  const seeding = await startTestBroker({ dbUrl: database.url, local: { demo: false } });
  try {
    await seedLog(seeding);
  } finally {
    await seeding.stop();
  }
}, 120_000);

afterAll(async () => {
  rmSync(home, { recursive: true, force: true });
  await database?.drop();
});

describe('a log download as a Lambda behind an ALB answers it', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ dbUrl: database.url, local: { demo: false } });
  }, 60_000);
  afterAll(() => broker?.stop());

  it('comes in parts under 1 MB, each naming the next, holding every row once', async () => {
    const token = await broker.adminToken();
    const handler = buildAdminHandler(broker.broker);
    const ids = new Set<number>();
    let parts = 0;
    let largest = 0;
    let cursor: string | undefined;
    let header = 0;
    do {
      const result = await handler(
        albEvent({
          path: '/api/v1/admin/log',
          query: {
            format: 'csv',
            from: '2026-02-01T00:00:00Z',
            to: '2026-02-01T03:00:00Z',
            ...(cursor ? { cursor } : {}),
          },
          headers: { authorization: `Bearer ${token}` },
        }),
        lambdaContext('admin'),
      );
      expect(result.statusCode).toBe(200);
      const body = result.body ?? '';
      largest = Math.max(largest, Buffer.byteLength(body));
      for (const line of body.split('\r\n').filter(Boolean)) {
        if (line.startsWith('id,')) header++;
        else ids.add(Number(line.split(',')[0]));
      }
      cursor = result.multiValueHeaders?.['x-next-cursor']?.[0] as string | undefined;
      if (cursor) {
        expect(result.multiValueHeaders?.link?.[0]).toMatch(
          /^<\/api\/v1\/admin\/log\?from=.*&format=csv&cursor=[\w-]+>; rel="next"$/,
        );
      }
      parts++;
    } while (cursor);

    // 2026-02-01T00:00:01 .. 02:59:59: 10,799 rows of about 1.1 KB: some 12 MB.
    expect(ids.size).toBe(10_799);
    expect(header).toBe(1);
    expect(parts).toBeGreaterThan(10);
    expect(largest).toBeLessThan(1_000_000);
  }, 60_000);
});

/** Resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function startChild(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--db', database.url, '--port', '0', '--no-demo'],
    {
      env: {
        ...process.env,
        DESKBROKER_HOME: home,
        DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        LOG_LEVEL: 'SILENT',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const url = /\bportal\s+(http:\/\/[^\s/]+)/.exec(out)?.[1];
      if (url && out.includes('Press Ctrl-C')) resolve({ proc, url });
    });
    proc.stderr!.on('data', (chunk) => {
      out += chunk;
    });
    proc.once('exit', (code) => reject(new Error(`deskbroker serve exited with ${code}: ${out}`)));
  });
}

/** Downloads `url`, counting bytes and lines without keeping them. */
function download(
  url: string,
  token: string,
): Promise<{ bytes: number; lines: number; chunks: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        let bytes = 0;
        let lines = 0;
        let chunks = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          chunks++;
          for (const b of chunk) if (b === 10) lines++;
        });
        res.on('end', () => resolve({ bytes, lines, chunks }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('a log download on the local runtime', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('streams 50,000 rows without the broker’s memory growing by 50 MB', async () => {
    const started = await startChild();
    child = started.proc;
    const login = await fetch(`${started.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    // Warm up the code paths (and the database's cache) with a small download first.
    await download(`${started.url}/api/v1/admin/log?format=csv&event=connect&user=user7`, token);
    const baseline = rss(child.pid!);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss(child!.pid!));
    }, 10);

    const started_ms = Date.now();
    const result = await download(
      `${started.url}/api/v1/admin/log?format=csv&event=connect`,
      token,
    ).finally(() => clearInterval(sampler));
    const seconds = (Date.now() - started_ms) / 1000;

    const growthMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `log export: ${ROWS} rows, ${(result.bytes / 1024 / 1024).toFixed(1)} MB in ${seconds.toFixed(1)} s, ` +
        `${result.chunks} chunks; broker RSS ${(baseline / 1024 / 1024).toFixed(0)} MB -> peak ${(peak / 1024 / 1024).toFixed(0)} MB (+${growthMb.toFixed(1)} MB)`,
    );
    expect(result.lines).toBe(ROWS + 1);
    expect(result.bytes).toBeGreaterThan(50 * 1024 * 1024);
    expect(growthMb).toBeLessThan(50);
  }, 120_000);
});
