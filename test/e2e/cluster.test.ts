/**
 * A local cluster: three brokers on one PostgreSQL (two in this process, one a child
 * process running `deskbroker serve`), with a 5-second heartbeat. The child is killed with
 * SIGKILL: it shows Unavailable within three heartbeats, can then be removed, and the jobs
 * pinned to it are finished by the others, each exactly once. A second live broker with a
 * taken site ID is refused; a cleanly stopped broker shows Stopped and rejoins on restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySiteConfig } from '../../functions/core/site-config/apply.ts';
import { applyDeps } from '../../functions/handlers/http/deps.ts';
import { DEMO_SITE } from '../../functions/local/demo-data.ts';
import {
  jsonOf,
  startTestBroker,
  TEST_ADMIN_PASSWORD,
  type TestBroker,
} from '../helpers/broker.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

const CLI = path.resolve(import.meta.dirname, '../../bin/deskbroker.js');
const HEARTBEAT_SECONDS = 5;
/** Which broker ran each delayed_release job, by user. */
const ran = new Map<string, number[]>();

let database: TestDatabase;
let one: TestBroker;
let two: TestBroker;
let child: ChildProcess | undefined;
let childHome: string;
let token: string;

const brokerOptions = (siteId: number) => ({
  dbUrl: database.url,
  env: { SITE_ID: String(siteId), BROKER_NAME: `broker-${siteId}` },
  local: {
    demo: false,
    // This machine's own load must not hold the pinned jobs back (the job-runner test covers the gate).
    cluster: { pollMs: 100, tickMs: 200, settingsMs: 500, loadAverage: () => 0 },
    jobs: {
      bodies: {
        delayed_release: async (job: { user: string }, context: { siteId: number }) => {
          ran.set(job.user, [...(ran.get(job.user) ?? []), context.siteId]);
        },
      },
    },
  },
});

async function cluster(): Promise<
  { siteId: number; status: string; heartbeatAgeSeconds: number }[]
> {
  const res = await one.fetch('/api/v1/admin/cluster', {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await jsonOf(res)).brokers;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function startChild(siteId: number): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--db', database.url, '--site-id', String(siteId), '--port', '0', '--no-demo'],
    {
      env: {
        ...process.env,
        DESKBROKER_HOME: childHome,
        DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        BROKER_NAME: `broker-${siteId}`,
        LOG_LEVEL: 'SILENT',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('is running')) resolve(proc);
    });
    proc.stderr!.on('data', (chunk) => {
      out += chunk;
    });
    proc.once('exit', (code) => reject(new Error(`deskbroker serve exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  childHome = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-child-'));
  one = await startTestBroker(brokerOptions(1));
  await applySiteConfig(applyDeps(one.broker), {
    ...DEMO_SITE,
    settings: { heartbeatSeconds: HEARTBEAT_SECONDS },
  });
  two = await startTestBroker(brokerOptions(2));
  child = await startChild(3);
  token = await one.adminToken();
}, 60_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await two?.stop();
  await one?.stop();
  rmSync(childHome, { recursive: true, force: true });
  await database?.drop();
});

describe('a cluster of three local brokers', () => {
  it('lists three Running brokers and refuses a second live broker with a taken site ID', async () => {
    const brokers = await until(
      'three running brokers',
      async () => {
        const list = await cluster();
        return list.length === 3 && list.every((b) => b.status === 'Running') ? list : undefined;
      },
      15_000,
    );

    expect(brokers.map((b) => b.siteId)).toEqual([1, 2, 3]);
    await expect(startTestBroker(brokerOptions(3))).rejects.toThrow(
      /site ID 3 is in use by the running broker "broker-3"/,
    );
    const refused = await one.fetch('/api/v1/admin/cluster/3', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(409);
    expect((await jsonOf(refused)).error).toBe('broker_running');
  });

  it('shows a killed broker Unavailable within 3 heartbeats; Remove hands its jobs to the others', async () => {
    child!.kill('SIGKILL');
    const killedAt = Date.now();
    const users = Array.from({ length: 12 }, (_, i) => `pinned-${i}`);
    for (const user of users) {
      await one.broker.jobs.queue.enqueue(
        { kind: 'delayed_release', desktopId: 1, user },
        { siteId: 3, idempotencyKey: `pinned-to-3:${user}` },
      );
    }
    const justAfter = (await cluster()).find((b) => b.siteId === 3)!.status;

    await until(
      'broker 3 Unavailable',
      async () =>
        (await cluster()).find((b) => b.siteId === 3)?.status === 'Unavailable' ? true : undefined,
      3 * HEARTBEAT_SECONDS * 1000 + 5000,
    );
    const toUnavailableMs = Date.now() - killedAt;
    const stillPinned = await one.broker.jobs.ledger.list({
      siteId: 3,
      status: 'pending',
      kind: 'delayed_release',
      limit: 50,
    });
    const removed = await one.fetch('/api/v1/admin/cluster/3', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await jsonOf(removed);
    await until(
      'pinned jobs finished',
      async () => (users.every((u) => ran.has(u)) ? true : undefined),
      10_000,
    );
    await sleep(500);
    const rows = await one.broker.jobs.ledger.list({ kind: 'delayed_release', limit: 50 });

    console.log(
      `broker 3 killed: Unavailable after ${toUnavailableMs} ms (heartbeat ${HEARTBEAT_SECONDS} s)`,
    );
    expect(justAfter).toBe('Running');
    expect(toUnavailableMs).toBeLessThanOrEqual(3 * HEARTBEAT_SECONDS * 1000 + 1500);
    expect(stillPinned.length).toBe(12);
    expect(removed.status).toBe(200);
    expect(body).toMatchObject({ removed: 3 });
    expect(body.reassignedJobs).toBeGreaterThanOrEqual(12);
    expect(users.map((u) => ran.get(u)!.length)).toEqual(Array(12).fill(1));
    expect(new Set(users.flatMap((u) => ran.get(u)!))).toSatisfy((s: Set<number>) =>
      [...s].every((site) => site === 1 || site === 2),
    );
    expect(
      rows
        .filter((r) => users.some((u) => r.idempotencyKey === `pinned-to-3:${u}`))
        .map((r) => r.status),
    ).toEqual(Array(12).fill('finished'));
    expect((await cluster()).map((b) => b.siteId)).toEqual([1, 2]);
    const jobs = await one.fetch('/api/v1/admin/jobs?siteId=3', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await jsonOf(jobs)).jobs).toEqual([]);
  });

  it('shows a cleanly stopped broker as Stopped, and lets it rejoin on restart', async () => {
    await two.stop();
    const stopped = (await cluster()).find((b) => b.siteId === 2)?.status;
    const heartbeats = await one.broker.jobs.ledger.list({
      kind: 'heartbeat',
      siteId: 2,
      limit: 50,
    });

    two = await startTestBroker(brokerOptions(2));
    const back = (await cluster()).find((b) => b.siteId === 2)?.status;
    const view = await one.fetch('/api/v1/admin/jobs?kind=heartbeat&status=finished&limit=5', {
      headers: { authorization: `Bearer ${token}` },
    });

    expect(stopped).toBe('Stopped');
    expect(heartbeats.some((j) => j.status === 'pending')).toBe(false);
    expect(back).toBe('Running');
    expect(two.member.rejoined).toBe(true);
    expect(view.status).toBe(200);
    expect((await jsonOf(view)).jobs.length).toBeGreaterThan(0);
  });

  it('validates the job filters and the site ID, and admits administrators only', async () => {
    const auth = { authorization: `Bearer ${token}` };

    const badStatus = await one.fetch('/api/v1/admin/jobs?status=lost', { headers: auth });
    const badSite = await one.fetch('/api/v1/admin/cluster/abc', {
      method: 'DELETE',
      headers: auth,
    });
    const unknown = await one.fetch('/api/v1/admin/cluster/99', {
      method: 'DELETE',
      headers: auth,
    });
    const anonymous = await one.fetch('/api/v1/admin/cluster');

    expect(badStatus.status).toBe(400);
    expect((await jsonOf(badStatus)).message).toMatch(/^status:/);
    expect(badSite.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(anonymous.status).toBe(401);
  });
});
