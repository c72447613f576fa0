/**
 * The user portal when things go wrong, in Debian's Chromium: an account locked after too
 * many wrong passwords, and a site database that stops answering (leased mode: the banner,
 * and the leased desktop still connects). Each case has its own broker: five failures lock
 * the whole source address, and the outage needs PostgreSQL behind a proxy that can be cut.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SITE } from '../../functions/local/demo-data.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../helpers/pg.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Fills the form and signs in; resolves the status of the broker's answer. */
const signIn = async (page: Page, username: string, password: string) => {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  return (await answer).status();
};

describe('a locked-out account', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ env: { LOGIN_FAILURE_FLOOR_MS: '0' } });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('shows the wrong password five times, then the lock-out with the time to try again', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(broker.url);
    const alert = page.getByRole('alert');
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await signIn(page, 'alice', `wrong-${attempt}`)).toBe(401);
      expect(await alert.textContent()).toContain('The user name or password is not right');
    }
    // The sixth attempt, even with the right password, is refused until the lock ends.
    expect(await signIn(page, 'alice', 'alice-demo-pass')).toBe(429);
    // The time is the browser's own format: "10:47", or "10:47 AM" with a narrow space.
    await expect
      .poll(() => alert.textContent())
      .toMatch(
        /^Too many failed sign-ins\. You can try again at \d{1,2}:\d\d(\s[AP]M)? \(in 5 minutes\), or ask your administrator/,
      );
    expect((await context.cookies()).length).toBe(0);
    await screenshot(page, 'portal-locked-out');
    await context.close();
  });
});

describe('leased mode (the site database is down)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let broker: TestBroker;
  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const viaProxy = new URL(databaseUrl(database.name));
    viaProxy.port = String(proxy.port);
    broker = await startTestBroker({ dbUrl: viaProxy.toString(), local: { demo: false } });
    const token = await broker.adminToken();
    const applied = await broker.fetch('/api/v1/admin/config', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(DEMO_SITE),
    });
    expect(applied.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('shows the leased-mode banner, offers the leased desktop, and still connects to it', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(broker.url);
    // A normal launch of alice's hard-assigned desktop writes her lease.
    await signIn(page, 'alice', 'alice-demo-pass');
    const own = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'alice-ws' }) });
    const first = page.waitForEvent('download');
    await own.getByRole('button', { name: 'Connect with RDP' }).click();
    await first;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();

    await proxy.cut('refuse');
    try {
      await signIn(page, 'alice', 'alice-demo-pass');
      const banner = page.getByRole('status').filter({ hasText: 'Limited service' });
      await banner.waitFor();
      expect(await banner.textContent()).toContain(
        'You can still connect to desktops you used recently',
      );
      // Only the leased desktop is offered; it connects, and the launch file names its address.
      expect(await page.getByRole('listitem').count()).toBe(1);
      const download = page.waitForEvent('download');
      await own.getByRole('button', { name: 'Connect with RDP' }).click();
      const file = await download;
      expect(readFileSync((await file.path())!, 'utf8')).toContain(
        'full address:s:127.0.0.21:3389',
      );
      await screenshot(page, 'portal-leased-mode');

      // Someone without a lease is told why, in words.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, 'bob', 'bob-demo-pass');
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toMatch(/site database is not reachable.*If this goes on, tell your administrator\./);
    } finally {
      await proxy.restore();
    }
    await context.close();
  });
});
