import { mkdtempSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { loadConfig } from '/work/wt-admin/functions/config.ts';
import { startLocalBroker } from '/work/wt-admin/functions/local/runtime.ts';
const home = mkdtempSync('/tmp/dbshots-');
const local = await startLocalBroker(loadConfig({ PORT: '0', HOST: '127.0.0.1', DESKBROKER_HOME: home, SITE_DB_URL: 'postgres://postgres@127.0.0.1:5432/shotsdb', DESKBROKER_ADMIN_PASSWORD: 'admin-test-password', LOG_LEVEL: 'SILENT' }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const page = await ctx.newPage();
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.goto(`${local.url}/admin`);
await page.getByLabel('User name').fill('admin');
await page.getByLabel('Password').fill('admin-test-password');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('heading', { name: 'Overview' }).waitFor();
await page.waitForTimeout(800);
await page.screenshot({ path: '/tmp/ov.png', fullPage: true });
for (const v of ['desktops', 'pools', 'sessions', 'clients', 'gateways', 'log', 'leases', 'configuration']) {
  await page.goto(`${local.url}/admin/${v}`);
  await page.waitForTimeout(800);
  await page.screenshot({ path: `/tmp/v-${v}.png`, fullPage: true });
}
await browser.close();
await local.stop();
