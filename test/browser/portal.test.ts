/**
 * The user portal in Debian's Chromium, as a person uses it: signing in by keyboard, the
 * offer list, connecting (the launch file downloads), releasing, signing out; a wrong
 * password; the one-time-code step; accessibility (axe-core) and a phone-sized screen.
 * Screenshots for the README are saved to docs/screenshots/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../functions/core/login/mfa.ts';
import { DEMO_SITE } from '../../functions/local/demo-data.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import {
  collectConsoleErrors,
  focused,
  horizontalOverflow,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from '../helpers/browser.ts';
import { request } from '../helpers/http.ts';

const MFA_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('the user portal', () => {
  let broker: TestBroker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    broker = await startTestBroker();
    // The demo site, plus dave, whose assignment asks for a one-time code.
    const token = await broker.adminToken();
    const site = {
      ...DEMO_SITE,
      users: [
        ...(DEMO_SITE.users ?? []),
        { name: 'dave', password: 'dave-password', groups: ['Secure'], mfaSecret: MFA_SECRET },
      ],
      assignments: [
        { group: 'Secure', mfa: 'totp', role: 'User', policy: 'demo' },
        ...(DEMO_SITE.assignments ?? []),
      ],
    };
    const applied = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      body: site,
      token,
    });
    expect(applied.status, applied.text).toBe(200);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
  });
  beforeEach(async () => {
    context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 800 },
    });
    page = await context.newPage();
    consoleErrors = collectConsoleErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });

  /** Signs in by keyboard: focus the first field, type, Tab to the next, Enter. */
  const signIn = async (username: string, password: string) => {
    await page.getByLabel('User name').focus();
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
  };
  const sessionCookie = async () =>
    (await context.cookies()).find((c) => c.name.toLowerCase().includes('session'));

  it('signs a demo user in, connects by keyboard, gets the .rdp file, releases, signs out', async () => {
    await page.goto(broker.url);
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Sign in to deskbroker');
    await screenshot(page, 'portal-sign-in');

    const loginAnswer = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
    await signIn('alice', 'alice-demo-pass');
    const token = ((await (await loginAnswer).json()) as { token: string }).token;
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    // Focus moved to the new view's heading, for keyboard and screen-reader users.
    expect(await focused(page)).toBe('Your desktops');
    expect(await page.getByText('Signed in as').textContent()).toContain('alice');

    const own = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'alice-ws' }) });
    await expect.poll(() => own.getByText('Assigned to you').count()).toBe(1);
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'demo-01' }) });
    await expect.poll(() => card.getByText('Available').count()).toBe(1);

    // Connect by keyboard: focus the card's button and press Enter; the launch file downloads.
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'Connect with RDP' }).focus();
    await page.keyboard.press('Enter');
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.rdp$/);
    const content = readFileSync((await file.path())!, 'utf8');
    expect(content).toContain('full address:s:127.0.0.11:3389');
    // The details for people who type them into a client, and the new status.
    await expect.poll(() => card.getByText('In use by you').count()).toBe(1);
    const details = card.getByRole('region', { name: /How to connect to demo-01/ });
    expect(await details.getByText('127.0.0.11').count()).toBe(1);
    expect(await details.getByText('3389').count()).toBe(1);
    await screenshot(page, 'portal-desktops');

    // Release, by keyboard.
    await card.getByRole('button', { name: 'Release' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => card.getByText('Available').count()).toBe(1);
    expect(await page.getByRole('status').filter({ hasText: 'demo-01 was released' }).count()).toBe(
      1,
    );
    expect(await card.getByRole('button', { name: 'Release' }).count()).toBe(0);

    // Sign out: back at the sign-in page, and the session is over on the server.
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('You have signed out.').waitFor();
    expect(await sessionCookie()).toBeUndefined();
    const old = await request(`${broker.url}/api/v1/offers`, { token });
    expect(old.status).toBe(401);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to deskbroker' }).waitFor();
    expect(consoleErrors).toEqual([]);
  });

  it('carries the session in its cookie: a reload stays signed in, no bearer token is sent', async () => {
    const authorizations: string[] = [];
    page.on('request', (r) => {
      const auth = r.headers().authorization;
      if (auth) authorizations.push(auth);
    });
    await page.goto(broker.url);
    await signIn('bob', 'bob-demo-pass');
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    await page.reload();
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('status').filter({ hasText: 'Desktop list refreshed' }).waitFor();
    expect(authorizations).toEqual([]);
  });

  it('keeps the focus in the field a quick user is already typing in while the page settles', async () => {
    // A slow machine: the page's after-paint work (where it moves the focus to its heading)
    // runs half a second late, while the user has already clicked into the form and types.
    await page.addInitScript(`{
      const later = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (callback) => {
        setTimeout(() => later(callback), 500);
        return 0;
      };
    }`);
    await page.goto(broker.url);
    await page.getByLabel('User name').focus();
    await page.keyboard.type('alice', { delay: 150 });
    expect(await page.getByLabel('User name').inputValue()).toBe('alice');
    expect(await focused(page)).toBe('username');
  });

  it('says when the password is wrong, and starts no session', async () => {
    await page.goto(broker.url);
    await signIn('carol', 'not-her-password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      'The user name or password is not right. Check them and try again.',
    );
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(await sessionCookie()).toBeUndefined();
    await screenshot(page, 'portal-wrong-password');
  });

  it('asks for the one-time code when the assignment needs it: a wrong one is refused, the right one signs in', async () => {
    await page.goto(broker.url);
    await signIn('dave', 'dave-password');
    await page.getByRole('heading', { name: 'Enter your one-time code' }).waitFor();
    // The code field has focus, ready to type into.
    expect(await focused(page)).toBe('code');
    const wrong = (Number(await totpCode(MFA_SECRET, Date.now())) + 500_000) % 1_000_000;
    await page.keyboard.type(String(wrong).padStart(6, '0'));
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'That code is wrong' }).waitFor();
    expect(await sessionCookie()).toBeUndefined();
    await screenshot(page, 'portal-one-time-code');

    await page.getByLabel('One-time code').fill(await totpCode(MFA_SECRET, Date.now()));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    expect(await sessionCookie()).toBeDefined();
  });

  it('has no serious or critical accessibility finding on the sign-in page and the offer list', async () => {
    await page.goto(broker.url);
    await page.getByLabel('User name').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await signIn('alice', 'alice-demo-pass');
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('works on a phone-sized screen (360 px): nothing wider than the screen, every control reachable', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(broker.url);
    await page.getByLabel('User name').waitFor();
    const overflow = () => horizontalOverflow(page);
    expect(await overflow()).toBe(0);
    await screenshot(page, 'portal-sign-in-phone');
    await signIn('alice', 'alice-demo-pass');
    await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    expect(await overflow()).toBe(0);
    const buttons = await page.getByRole('button').all();
    expect(buttons.length).toBeGreaterThan(3);
    for (const b of buttons) {
      const box = (await b.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(360);
      expect(box.height).toBeGreaterThanOrEqual(44);
    }
    await screenshot(page, 'portal-desktops-phone');
  });

  it('takes its title, logo and colour from DESKBROKER_HOME/branding, without a rebuild or restart', async () => {
    const folder = path.join(broker.home, 'branding');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      path.join(folder, 'branding.json'),
      JSON.stringify({ title: 'Acme Desktops', logo: 'acme.svg', accentColor: '#0a7d45' }),
    );
    writeFileSync(
      path.join(folder, 'acme.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#0a7d45"/></svg>',
    );
    try {
      await page.goto(broker.url);
      await page.getByRole('heading', { name: 'Sign in to Acme Desktops' }).waitFor();
      expect(await page.title()).toBe('Sign in · Acme Desktops');
      expect(await page.locator('.brand img').getAttribute('src')).toBe('/branding/acme.svg');
      const accent = await page.evaluate<string>(
        "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor",
      );
      expect(accent).toBe('rgb(10, 125, 69)');
      await screenshot(page, 'portal-branded');
      expect(consoleErrors).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('offers a choice of authentication server only when more than one is enabled', async () => {
    await page.goto(broker.url);
    await page.getByLabel('User name').waitFor();
    expect(await page.getByLabel('Sign in with').count()).toBe(0);

    const token = await broker.adminToken();
    const exported = await request(`${broker.url}/api/v1/admin/config`, { token });
    const withDirectory = {
      ...exported.body,
      authServers: [
        ...exported.body.authServers,
        {
          name: 'corp',
          type: 'ldap',
          url: 'ldap://127.0.0.1:1',
          userBase: 'ou=people,dc=example,dc=org',
        },
      ],
    };
    const applied = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      body: withDirectory,
      token,
    });
    expect(applied.status, applied.text).toBe(200);
    try {
      await page.reload();
      const choice = page.getByLabel('Sign in with');
      await choice.waitFor();
      expect(await choice.locator('option').allTextContents()).toEqual([
        'Any (tried in order)',
        'local (local account)',
        'corp (directory)',
      ]);
      // Naming the local server signs in without trying the (unreachable) directory.
      await choice.selectOption('local');
      await signIn('bob', 'bob-demo-pass');
      await page.getByRole('heading', { name: 'Your desktops' }).waitFor();
    } finally {
      await request(`${broker.url}/api/v1/admin/config`, {
        method: 'PUT',
        body: exported.body,
        token,
      });
    }
  });
});
