/**
 * The admin console in Debian's Chromium, as an administrator uses it: signing in, the broker
 * Running and the demo pool's usage; a user connecting from another browser and the desktop
 * showing in use by them, then released; a configuration mistake shown with its path and
 * line, a good change applied and found in the export; a user's leases revoked; the log
 * showing the test's events and its CSV export holding them; leased mode; a user who is not
 * an administrator told so; accessibility (axe-core) on every view. Screenshots of the
 * overview and the desktops page go to docs/screenshots/ for the README.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_ADMIN_PASSWORD, type TestBroker } from '../helpers/broker.ts';
import {
  collectConsoleErrors,
  focused,
  horizontalOverflow,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from '../helpers/browser.ts';
import { request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

describe('the admin console', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    broker = await startTestBroker({ dbUrl: database.url });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
    await database?.drop();
  });
  beforeEach(async () => {
    context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1360, height: 860 },
    });
    page = await context.newPage();
    consoleErrors = collectConsoleErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });

  /** Signs in by keyboard on the console's sign-in form. */
  const signIn = async (p: Page, username: string, password: string) => {
    await p.getByLabel('User name').focus();
    await p.keyboard.type(username);
    await p.keyboard.press('Tab');
    await p.keyboard.type(password);
    await p.keyboard.press('Enter');
  };
  const signInAsAdmin = async (path = '/admin') => {
    await page.goto(`${broker.url}${path}`);
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
  };
  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name });
  const row = (name: string) =>
    page
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name}`) }) });

  it('lets an administrator in and shows the broker Running and the demo pool’s usage', async () => {
    await signInAsAdmin();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await focused(page)).toBe('Overview');
    expect(await page.title()).toBe('Overview · deskbroker administration');

    const brokers = page.getByRole('region', { name: 'Brokers' });
    await expect.poll(() => brokers.getByText('Running').count()).toBe(1);
    expect(await brokers.getByText('(this broker)').count()).toBe(1);
    const pools = page.getByRole('region', { name: 'Pool usage' });
    const demo = pools.getByRole('row').filter({ hasText: 'demo' });
    await expect.poll(() => demo.getByRole('cell').first().textContent()).toBe('4');
    expect(await demo.getByRole('meter').getAttribute('aria-label')).toBe(
      'demo: 1 of 4 desktops used',
    );
    const jobs = page.getByRole('region', { name: 'Job queue' });
    await expect.poll(() => jobs.getByRole('list', { name: 'Jobs by status' }).count()).toBe(1);
    await expect
      .poll(() => jobs.getByRole('rowheader', { name: /^heartbeat/ }).count())
      .toBeGreaterThan(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'admin-overview');
    expect(consoleErrors).toEqual([]);
  });

  it('removes a Stopped broker from the cluster, after asking', async () => {
    const long = new Date(Date.now() - 3_600_000);
    await broker.broker.site.db
      .insertInto('broker')
      .values({
        siteId: 9,
        uuid: 'a5d0c1e2-0000-4000-8000-000000000009',
        name: 'old-broker',
        address: '10.0.0.9',
        version: '0.1.0',
        bootedAt: long,
        heartbeatAt: long,
        status: 'stopped',
      })
      .execute();
    await signInAsAdmin();
    const old = row('old-broker');
    await expect.poll(() => old.getByText('Stopped').count()).toBe(1);
    // The running broker has no Remove; the stopped one has.
    const brokers = page.getByRole('region', { name: 'Brokers' });
    expect(await brokers.getByRole('button', { name: 'Remove' }).count()).toBe(1);
    await old.getByRole('button', { name: 'Remove' }).click();
    const confirm = old.getByRole('group', { name: /Remove broker old-broker \(site ID 9\)/ });
    await confirm.getByRole('button', { name: 'Yes, remove' }).click();
    await expect.poll(() => old.count()).toBe(0);
    expect(
      await page.getByRole('status').filter({ hasText: 'Broker old-broker removed' }).count(),
    ).toBe(1);
  });

  it('filters the job queue by status, the filter kept in the URL', async () => {
    await signInAsAdmin();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption('finished');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/\/admin\?jobStatus=finished$/);
    const jobs = page.getByRole('region', { name: 'Job queue' });
    await expect
      .poll(async () => new Set(await jobs.locator('tbody .badge').allTextContents()))
      .toEqual(new Set(['finished']));
  });

  it('shows a desktop in use by a user who connects in another browser, and releases it', async () => {
    // The administrator watches the desktops; the view refreshes itself, in place.
    await signInAsAdmin('/admin/desktops');
    await page.getByRole('heading', { name: 'Desktops', level: 1 }).waitFor();
    await page.locator('tbody tr').first().waitFor();
    await page.evaluate(`
      window.tablesReplaced = 0;
      new MutationObserver((changes) => {
        for (const c of changes)
          for (const n of c.removedNodes) if (n.nodeName === 'TABLE' || n.nodeName === 'TBODY') window.tablesReplaced++;
      }).observe(document.getElementById('main'), { childList: true, subtree: true });
    `);

    // The user, in a browser of their own, connects to a demo desktop from the portal.
    const userContext = await browser.newContext({ acceptDownloads: true });
    const userPage = await userContext.newPage();
    await userPage.goto(broker.url);
    await signIn(userPage, 'alice', 'alice-demo-pass');
    const card = userPage
      .getByRole('listitem')
      .filter({ has: userPage.getByRole('heading', { name: 'demo-01' }) });
    const download = userPage.waitForEvent('download');
    await card.getByRole('button', { name: 'Connect with RDP' }).click();
    await download;
    await card.getByText('In use by you').waitFor();

    const desktop = row('demo-01');
    // No reload, no click: within one refresh period (10 s) the desktop shows in use.
    await expect.poll(() => desktop.getByText('in use').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.evaluate('window.tablesReplaced')).toBe(0);
    expect(await desktop.getByRole('cell').nth(2).textContent()).toMatch(/^alice since /);
    expect(await desktop.getByRole('cell').nth(3).textContent()).toMatch(
      /^Web browser, 127\.0\.0\.1/,
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'admin-desktops');

    // Only alice's desktops, by the filter (kept in the URL).
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('User').press('Enter');
    await page.waitForURL(/\/admin\/desktops\?user=alice$/);
    await expect
      .poll(() => page.locator('tbody th').allTextContents())
      .toEqual([expect.stringMatching(/^alice-ws/), expect.stringMatching(/^demo-01/)]);

    // Release, by keyboard: the first press asks, the second does it. demo-01 then leaves
    // alice's list, and is available in the whole list.
    await desktop.getByRole('button', { name: 'Release' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toBe('Yes, release');
    await page.keyboard.press('Enter');
    await expect.poll(() => desktop.count()).toBe(0);
    expect(
      await page
        .getByRole('status')
        .filter({ hasText: 'demo-01 was released from alice.' })
        .count(),
    ).toBe(1);
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.waitForURL(/\/admin\/desktops$/);
    await expect.poll(() => desktop.getByText('available').count()).toBe(1);
    // The user's portal sees it too.
    await userPage.getByRole('button', { name: 'Refresh' }).click();
    await card.getByText('Available').waitFor();
    await userContext.close();
    expect(consoleErrors).toEqual([]);
  });

  it('shows a configuration mistake with its path beside its line, applies a good change and exports it', async () => {
    await signInAsAdmin('/admin/configuration');
    const editor = page.getByLabel('Site configuration (YAML)');
    await expect.poll(async () => (await editor.inputValue()).length).toBeGreaterThan(100);
    const original = await editor.inputValue();
    expect(original).not.toContain('alice-demo-pass');

    // A mistake: the assignment names a policy that does not exist.
    const broken = original.replace(/policy: demo\n(?![\s\S]*policy: demo\n)/, 'policy: nowhere\n');
    expect(broken).not.toBe(original);
    await editor.fill(broken);
    await page.getByRole('button', { name: 'Check' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'nothing was changed' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('assignments[0].policy: unknown policy "nowhere"');
    const line = broken.split('\n').findIndex((l) => l.includes('policy: nowhere')) + 1;
    const goTo = alert.getByRole('button', { name: `Line ${line}` });
    expect(await goTo.count()).toBe(1);
    expect(await page.locator('.gutter .marked').textContent()).toBe(`! ${line}\n`);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await goTo.click();
    // The cursor moved to that line (the page runs this; the tests have no DOM types).
    const selected = await editor.evaluate((el) => {
      const area = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
      return area.value.slice(area.selectionStart, area.selectionEnd);
    });
    expect(selected).toContain('policy: nowhere');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'admin-configuration-check');

    // A good change: a new role. Check lists it; Apply applies it; Export has it.
    await editor.fill(
      original.replace('roles:\n', 'roles:\n  - name: Auditor\n    admin: false\n'),
    );
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('The check passed. Applying would make 1 change:').waitFor();
    expect(
      await page.getByRole('listitem').filter({ hasText: 'create role "Auditor"' }).count(),
    ).toBe(1);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Applied: 1 change.').waitFor();
    const exported = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export' }).click();
    const file = await exported;
    expect(file.suggestedFilename()).toBe('deskbroker-site.yaml');
    const yaml = readFileSync((await file.path())!, 'utf8');
    expect(yaml).toContain('name: Auditor');
    expect(yaml).not.toContain('alice-demo-pass');
    expect(consoleErrors).toEqual([]);
  });

  it('revokes a user’s leases and lifts the revocation', async () => {
    // alice launches her hard-assigned desktop: a lease.
    const login = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'alice', password: 'alice-demo-pass' },
    });
    const ws = login.body.offers.find((o: { name: string }) => o.name === 'alice-ws');
    const connect = await request(`${broker.url}/api/v1/offers/${ws.desktopId}/connect`, {
      method: 'POST',
      token: login.body.token,
    });
    expect(connect.status, connect.text).toBe(200);

    // Found from the desktop's side too (state all), marked live.
    await signInAsAdmin(`/admin/leases?desktopId=${ws.desktopId}&state=all`);
    await page.getByRole('heading', { name: 'Leases', level: 1 }).waitFor();
    await expect.poll(() => row('alice').count()).toBe(1);
    expect(await row('alice').getByText('live').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Remove these leases' }).count()).toBe(1);
    expect(await page.getByLabel('Desktop ID').inputValue()).toBe(String(ws.desktopId));

    await page.goto(`${broker.url}/admin/leases?user=alice`);
    await expect.poll(() => row('alice').count()).toBe(1);
    expect(await row('alice').getByRole('cell').first().textContent()).toContain('alice-ws');

    await page.getByLabel('User name').fill('alice');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByRole('status').filter({ hasText: '1 lease of alice revoked' }).waitFor();
    await page.getByText('alice has no lease.').waitFor();
    const leases = await request(`${broker.url}/api/v1/admin/leases?user=alice`, {
      token: await broker.adminToken(),
    });
    expect(leases.body.leases).toEqual([]);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Lift revocation' }).click();
    await page.getByRole('status').filter({ hasText: 'alice can use leases again.' }).waitFor();
  });

  it('shows the test’s events in the log, and its CSV export has them', async () => {
    await signInAsAdmin('/admin/log?user=alice');
    await page.getByRole('heading', { name: 'Log', level: 1 }).waitFor();
    const events = () => page.locator('tbody th').allTextContents();
    await expect.poll(events).toEqual(expect.arrayContaining(['login', 'connect', 'release']));
    const release = page.getByRole('row').filter({ hasText: 'by administrator admin' });
    expect(await release.count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);

    const exported = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await exported;
    expect(file.suggestedFilename()).toMatch(/^deskbroker-log-\d{4}-\d\d-\d\d\.csv$/);
    const lines = readFileSync((await file.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe('id,at,event,user,desktopId,desktop,clientIp,siteId,detail');
    expect(lines.slice(1).every((l) => l.split(',')[3] === 'alice')).toBe(true);
    expect(lines.some((l) => /,connect,alice,\d+,demo-01,/.test(l))).toBe(true);
    expect(lines.some((l) => /,release,alice,\d+,demo-01,.*by administrator admin$/.test(l))).toBe(
      true,
    );
  });

  it('lists sessions, clients, pools and gateways without an accessibility finding', async () => {
    await signInAsAdmin('/admin/sessions');
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    await expect.poll(() => page.getByText('(you, here)').count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);
    for (const [link, heading] of [
      ['Clients', 'Clients'],
      ['Pools', 'Pools'],
      ['Gateways', 'Gateways'],
      ['Overview', 'Overview'],
    ] as const) {
      await nav(link).click();
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      expect(await nav(link).getAttribute('aria-current')).toBe('page');
      await page.waitForLoadState('networkidle');
      expect(await seriousA11yViolations(page), link).toEqual([]);
    }
    await page.goBack();
    await page.getByRole('heading', { name: 'Gateways', level: 1 }).waitFor();
    expect(consoleErrors).toEqual([]);
  });

  it('says in leased mode that administration waits for the database, and shows who is signed in', async () => {
    await signInAsAdmin('/admin/sessions');
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    const breaker = broker.broker.leasing.breaker;
    breaker.failure();
    breaker.failure();
    try {
      await nav('Desktops').click();
      await page.getByText('Administration waits for the site database').waitFor();
      await page.getByText('The desktops come from the site database').waitFor();
      await nav('Sessions').click();
      await expect.poll(() => page.getByText('(you, here)').count()).toBe(1);
      expect(await page.getByText('Administration waits for the site database').count()).toBe(1);
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      breaker.success();
    }
    await nav('Desktops').click();
    await expect
      .poll(() => page.getByText('Administration waits for the site database').count())
      .toBe(0);
  });

  it('tells a signed-in user who is not an administrator so, and works on a narrow screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${broker.url}/admin`);
    await signIn(page, 'bob', 'bob-demo-pass');
    await page.getByRole('heading', { name: 'This console is for administrators' }).waitFor();
    expect(await page.getByText('You are signed in as bob').count()).toBe(1);
    expect(await horizontalOverflow(page)).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    const denied = await page.evaluate(async () => (await fetch('/api/v1/admin/desktops')).status);
    expect(denied).toBe(403);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
  });
});
