/**
 * Desktops in the browser, in Debian's Chromium, on a real desktop (Xvfb painted #3366cc,
 * x11vnc, an xterm), through gateways in their own processes: a user signs in to the portal,
 * chooses Open in browser, and the desktop page shows the desktop (canvas pixels sampled);
 * keys typed reach the xterm (read back with xdotool); the clipboard goes both ways; --info
 * counts the connection while it is open; Disconnect, a release elsewhere and a killed gateway
 * each end in a sentence on the page, not a hang. Screenshots go to docs/screenshots/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import {
  collectConsoleErrors,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from '../helpers/browser.ts';
import { TEST_GATEWAY_SECRET } from '../helpers/desktops.ts';
import { type LoopbackGateway, startLoopbackGateway } from '../helpers/gateway-process.ts';
import { request } from '../helpers/http.ts';
import { startVncDesktop, type VncDesktop } from '../helpers/vnc-desktop.ts';

const PASSWORD = 'desktop-page-password';

describe('the HTML5 desktop page', () => {
  let desktop: VncDesktop;
  let broker: TestBroker;
  let gw1: LoopbackGateway;
  let gw2: LoopbackGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    desktop = await startVncDesktop({ colour: '#3366cc', width: 1024, height: 768 });
    broker = await startTestBroker({
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET, LOGIN_FAILURE_FLOOR_MS: '0' },
      local: { demo: false },
    });
    gw1 = await startLoopbackGateway('gw1', { BROKER_URL: broker.url });
    gw2 = await startLoopbackGateway('gw2', { BROKER_URL: broker.url });
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token: await broker.adminToken(),
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: [
          { name: 'vera', password: PASSWORD, groups: ['Web'] },
          { name: 'kim', password: PASSWORD, groups: ['Fragile'] },
        ],
        roles: [{ name: 'User' }],
        gateways: [gw1.entry, gw2.entry],
        protocolPlans: [
          {
            name: 'vnc-web',
            protocols: [
              { protocol: 'vnc', port: desktop.port, gateway: 'gw1' },
              { protocol: 'rdp', port: 3389 },
            ],
          },
          { name: 'vnc-gw2', protocols: [{ protocol: 'vnc', port: desktop.port, gateway: 'gw2' }] },
        ],
        pools: [
          { name: 'web', desktops: [{ name: 'lab-desk', address: '127.0.0.1' }] },
          { name: 'fragile', desktops: [{ name: 'far-desk', address: '127.0.0.1' }] },
        ],
        policies: [
          { name: 'web', entries: [{ pool: 'web', offer: 1, protocolPlan: 'vnc-web' }] },
          { name: 'fragile', entries: [{ pool: 'fragile', offer: 1, protocolPlan: 'vnc-gw2' }] },
        ],
        assignments: [
          { group: 'Web', role: 'User', policy: 'web' },
          { group: 'Fragile', role: 'User', policy: 'fragile' },
        ],
      },
    });
    expect(res.status, res.text).toBe(200);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gw1?.stop();
    await gw2?.stop();
    await broker?.stop();
    await desktop?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    consoleErrors = collectConsoleErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });

  const signIn = async (p: Page, username: string) => {
    await p.goto(broker.url);
    await p.getByLabel('User name').fill(username);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your desktops' }).waitFor();
  };
  /** The colour of the desktop's pixel (x, y), read from noVNC's canvas. */
  const pixel = (p: Page, x: number, y: number) =>
    p.evaluate<string>(`(() => {
      const canvas = document.querySelector('.screen canvas');
      const [r, g, b] = canvas.getContext('2d').getImageData(${x}, ${y}, 1, 1).data;
      return '#' + [r, g, b].map((n) => n.toString(16).padStart(2, '0')).join('');
    })()`);
  /** Clicks the desktop at its own coordinates (the canvas is scaled to the window). */
  const clickDesktop = async (p: Page, x: number, y: number) => {
    const canvas = p.locator('.screen canvas').first();
    const box = (await canvas.boundingBox())!;
    const size = await canvas.evaluate((c) => [
      (c as { width: number }).width,
      (c as { height: number }).height,
    ]);
    await p.mouse.click(box.x + (x * box.width) / size[0]!, box.y + (y * box.height) / size[1]!);
  };
  /** The signed-in user's first offered desktop, as the page's session sees it. */
  const firstDesktopId = (p: Page) =>
    p.evaluate<number>(
      "fetch('/api/v1/offers', { credentials: 'same-origin' }).then((r) => r.json()).then((b) => b.offers[0].desktopId)",
    );
  const connected = (p: Page) => p.getByText('Connected', { exact: true }).waitFor();

  it('opens from the portal, shows the desktop, takes keys and the clipboard both ways; --info counts it', async () => {
    await signIn(page, 'vera');
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'lab-desk' }) });
    const opened = context.waitForEvent('page');
    await card.getByRole('link', { name: /Open in browser/ }).click();
    const desk = await opened;
    const deskErrors = collectConsoleErrors(desk);
    await connected(desk);

    expect(new URL(desk.url()).pathname).toMatch(/^\/desktop\/\d+$/);
    expect(await desk.title()).toBe('lab-desk · deskbroker');
    await expect.poll(() => pixel(desk, 1000, 700), { timeout: 10_000 }).toBe('#3366cc');
    expect(await gw1.info()).toMatch(/HTML5 display is ENABLED with 1 connection\(s\)/);
    expect(await seriousA11yViolations(desk)).toEqual([]);

    const xterm = await desktop.lineReader('browser-keys');
    await clickDesktop(desk, 60, 40);
    await desk.keyboard.type('hello from chromium');
    await desk.keyboard.press('Enter');
    await expect
      .poll(() => desktop.x('xdotool', ['getwindowname', xterm]), { timeout: 15_000 })
      .toBe('typed:hello from chromium\n');
    await screenshot(desk, 'desktop-vnc', false);

    await desk.getByText('Clipboard', { exact: true }).click();
    const box = desk.getByLabel('Clipboard text');
    await box.fill('pasted from the browser');
    await desk.getByRole('button', { name: 'Send to desktop' }).click();
    await expect
      .poll(() => desktop.clipboard(), { timeout: 10_000 })
      .toBe('pasted from the browser');
    // x11vnc sends the desktop's selection only from 15 s after a client connected
    // (sel_waittime in its src/selection.c, not configurable).
    await desktop.setClipboard('copied on the desktop');
    await expect.poll(() => box.inputValue(), { timeout: 25_000 }).toBe('copied on the desktop');

    await desk.getByRole('button', { name: 'Disconnect' }).click();
    await desk.getByRole('alert').filter({ hasText: 'You disconnected.' }).waitFor();
    await expect
      .poll(() => gw1.info(), { timeout: 5_000 })
      .toMatch(/HTML5 display is ENABLED with 0 connection\(s\)/);
    expect(deskErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  it('says so when the desktop is released elsewhere, and reconnects with a new ticket', async () => {
    await signIn(page, 'vera');
    const id = await firstDesktopId(page);
    await page.goto(`${broker.url}/desktop/${id}?protocol=vnc`);
    await connected(page);

    const other = await request(`${broker.url}/api/v1/login`, {
      method: 'POST',
      body: { username: 'vera', password: PASSWORD },
    });
    await request(`${broker.url}/api/v1/offers/${id}/release`, {
      method: 'POST',
      token: other.body.token,
    });

    await page
      .getByRole('alert')
      .filter({ hasText: 'The session was ended: the desktop was released' })
      .waitFor();
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await connected(page);
    await expect.poll(() => pixel(page, 1000, 700), { timeout: 10_000 }).toBe('#3366cc');
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('shows a message, not a hang, when the gateway is killed mid-session', async () => {
    await signIn(page, 'kim');
    await page.goto(`${broker.url}/desktop/${await firstDesktopId(page)}?protocol=vnc`);
    await connected(page);

    const killedAt = Date.now();
    await gw2.stop('SIGKILL');

    await page
      .getByRole('alert')
      .filter({ hasText: 'The connection to the gateway was lost.' })
      .waitFor({ timeout: 5_000 });
    expect(Date.now() - killedAt).toBeLessThan(3_000);
    expect(await page.getByText('Not connected').count()).toBe(1);
    await screenshot(page, 'desktop-gateway-lost', false);
  }, 60_000);

  it('sends a visitor without a session to sign in', async () => {
    await page.goto(`${broker.url}/desktop/1?protocol=vnc`);
    await page.getByRole('alert').filter({ hasText: 'Sign in to open this desktop.' }).waitFor();
    expect(consoleErrors).toEqual([]);
  });
});
