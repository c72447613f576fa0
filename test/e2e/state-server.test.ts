/**
 * `deskbroker state-server`: the state table on its own, shared by the brokers of a local
 * cluster, so a session made on one broker is valid on the next behind a load balancer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const CLI = path.resolve(import.meta.dirname, '../../bin/deskbroker.js');
let server: ChildProcess;
let endpoint: string;
let data: string;
let database: TestDatabase;
const brokers: TestBroker[] = [];

beforeAll(async () => {
  data = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-state-'));
  database = await createTestDatabase();
  server = spawn(process.execPath, [CLI, 'state-server', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/running at (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) resolve(match[1]!);
    });
    server.once('exit', (code) => reject(new Error(`state-server exited with ${code}: ${out}`)));
  });
  for (const siteId of [1, 2]) {
    brokers.push(
      await startTestBroker({
        dbUrl: database.url,
        env: { SITE_ID: String(siteId), DYNAMODB_ENDPOINT: endpoint },
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const b of brokers) await b.stop();
  server?.kill('SIGTERM');
  await database?.drop();
  rmSync(data, { recursive: true, force: true });
});

describe('deskbroker state-server', () => {
  it('lets a session made on one broker be used on another', async () => {
    const token = await brokers[0]!.adminToken();

    const onSecond = await brokers[1]!.fetch('/api/v1/admin/cluster', {
      headers: { authorization: `Bearer ${token}` },
    });

    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(onSecond.status).toBe(200);
    expect((await jsonOf(onSecond)).brokers.map((b: { siteId: number }) => b.siteId)).toEqual([
      1, 2,
    ]);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
