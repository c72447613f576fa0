/**
 * A new user's first minute: `deskbroker serve` on a new folder, as `npm start` runs it. The
 * moment `is_alive` first answers CB_IS_OKAY, a demo user signs in with the password the
 * broker printed (issue 14, item 0: the login path's configuration cache used to be filled
 * before the demo data, so alice got "wrong user name or password" for about five seconds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../functions/local/demo-data.ts';
import { request } from '../helpers/http.ts';

const CLI = path.resolve(import.meta.dirname, '../../bin/deskbroker.js');

/** A port that was free a moment ago (the broker's is chosen before it starts, so the test can
 * ask is_alive from the first instant, before anything is printed). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('first start of a new site', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-first-'));
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('signs in a demo user the moment is_alive first answers OK, and prints only what is true', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
      cwd: home,
      env: {
        ...process.env,
        DESKBROKER_HOME: path.join(home, '.deskbroker'),
        LOG_LEVEL: 'SILENT',
        // The machine's load (other test files) is not what this test is about.
        HEALTH_MAX_LOAD: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c) => {
      output += c;
    });
    child.stderr!.on('data', (c) => {
      output += c;
    });
    const url = `http://127.0.0.1:${port}`;

    // Ask as often as a load balancer would, from the first instant.
    const end = Date.now() + 45_000;
    let alive = false;
    while (!alive) {
      expect(child.exitCode, output).toBeNull();
      expect(Date.now() < end, `is_alive never answered OK: ${output}`).toBe(true);
      alive = await request(`${url}/index.pl?action=is_alive`).then(
        (r) => r.status === 200 && r.text === 'CB_IS_OKAY',
        () => false,
      );
      if (!alive) await sleep(20);
    }
    const alice = DEMO_USERS[0];
    const login = await request(`${url}/api/v1/login`, {
      method: 'POST',
      body: { username: alice.name, password: alice.password },
    });

    expect(login.status, login.text).toBe(200);
    expect(login.body.user.name).toBe('alice');
    expect(login.body.offers.length).toBeGreaterThan(0);
    // Everything the broker printed was true by the time it answered: it printed it before.
    expect(output).toContain('is running');
    expect(output).toContain(`${alice.name} / ${alice.password}`);
  }, 60_000);
});
