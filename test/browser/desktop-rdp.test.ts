/**
 * RDP in the browser, in Debian's Chromium: the desktop page runs IronRDP's WebAssembly client
 * (ironrdp-wasm) against Debian's xrdp through the gateway's RDCleanPath endpoint, with the
 * broker's one-time ticket as the proxy authorization. The canvas shows xrdp's sign-in screen
 * (painted a known colour: a session behind it would need a system account); the ticket is
 * single use; the gateway counts the connection; Disconnect ends in a sentence.
 *
 * Runs where xrdp is installed (`apt-get install xrdp`; not in scripts/debian-packages.sh,
 * because installing it starts an RDP service on port 3389 on a developer's machine).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { collectConsoleErrors, launchBrowser, screenshot } from '../helpers/browser.ts';
import { TEST_GATEWAY_SECRET } from '../helpers/desktops.ts';
import { type LoopbackGateway, startLoopbackGateway } from '../helpers/gateway-process.ts';
import { request } from '../helpers/http.ts';
import { hasXrdp, type RdpDesktop, startRdpDesktop } from '../helpers/rdp-desktop.ts';

const PASSWORD = 'rdp-page-password';

describe.skipIf(!hasXrdp)('RDP on the HTML5 desktop page (needs xrdp installed)', () => {
  let rdp: RdpDesktop;
  let broker: TestBroker;
  let gw: LoopbackGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    rdp = await startRdpDesktop({ colour: '#3366cc' });
    broker = await startTestBroker({
      env: { GATEWAY_SECRET: TEST_GATEWAY_SECRET, LOGIN_FAILURE_FLOOR_MS: '0' },
      local: { demo: false },
    });
    gw = await startLoopbackGateway('gw-rdp', { BROKER_URL: broker.url });
    const res = await request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token: await broker.adminToken(),
      body: {
        authServers: [{ name: 'local', type: 'local' }],
        users: [{ name: 'rita', password: PASSWORD, groups: ['Rdp'] }],
        roles: [{ name: 'User' }],
        gateways: [gw.entry],
        protocolPlans: [
          { name: 'rdp-web', protocols: [{ protocol: 'rdp', port: rdp.port, gateway: 'gw-rdp' }] },
        ],
        pools: [{ name: 'rdp', desktops: [{ name: 'rdp-desk', address: '127.0.0.1' }] }],
        policies: [{ name: 'rdp', entries: [{ pool: 'rdp', offer: 1, protocolPlan: 'rdp-web' }] }],
        assignments: [{ group: 'Rdp', role: 'User', policy: 'rdp' }],
      },
    });
    expect(res.status, res.text).toBe(200);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await broker?.stop();
    await rdp?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    consoleErrors = collectConsoleErrors(page);
  });
  afterEach(async () => {
    await context.close();
  });

  /** Colours of the RDP canvas, most frequent first, sampled on a grid. */
  const colours = (p: Page) =>
    p.evaluate<string[]>(`(() => {
      const c = document.querySelector('.screen canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Map();
      for (let i = 0; i < d.length; i += 4 * 101) {
        const k = '#' + [d[i], d[i + 1], d[i + 2]].map((n) => n.toString(16).padStart(2, '0')).join('');
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      return [...seen.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    })()`);

  it('offers it, opens it in the browser through RDCleanPath, counts it, ends it in a sentence', async () => {
    await page.goto(broker.url);
    await page.getByLabel('User name').fill('rita');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const link = page.getByRole('link', { name: /Open in browser/ });
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/^\/desktop\/\d+\?protocol=rdp$/);

    await page.goto(`${broker.url}${href}`);
    await page.getByRole('heading', { name: /Sign in to/ }).waitFor();
    await page.getByLabel('User name on the desktop').fill('someone');
    await page.getByLabel('Password').fill('not-used-by-xrdp');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: 20_000 });

    await expect.poll(() => colours(page).then((c) => c[0]), { timeout: 15_000 }).toBe(rdp.colour);
    expect(rdp.connections()).toBe(1);
    expect(await gw.info()).toMatch(/HTML5 display is ENABLED with 1 connection\(s\)/);
    await screenshot(page, 'desktop-rdp', false);

    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('alert').filter({ hasText: 'You disconnected.' }).waitFor();
    await expect
      .poll(() => gw.info(), { timeout: 5_000 })
      .toMatch(/HTML5 display is ENABLED with 0 connection\(s\)/);
    expect(consoleErrors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  }, 90_000);
});
