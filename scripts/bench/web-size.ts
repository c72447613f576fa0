/**
 * The pages' size budgets (DESIGN.md, issues 10 and 11), measured and printed:
 * - each page's JavaScript, gzipped (the portal ≤ 60 KB, the console ≤ 150 KB), counting
 *   every script the page's HTML loads (its entry and the chunks it preloads);
 * - the first load of the sign-in page in Chromium, every byte transferred (headers and
 *   compressed bodies of the HTML, scripts, styles, images and the API calls it makes) ≤ 150 KB;
 * - that the portal loads none of the console's or the desktop page's code.
 *
 *   node scripts/bench/web-size.ts        (npm run bench:web)
 *
 * Exits 1 when a budget is exceeded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../functions/config.ts';
import { startLocalBroker, WEB_ROOT } from '../../functions/local/runtime.ts';
import { buildWeb, webIsStale } from '../build-web.ts';

const KB = 1024;
const BUDGETS = { portal: 60 * KB, admin: 150 * KB, firstLoad: 150 * KB } as const;
const PAGES = [
  { name: 'portal', html: 'index.html', budget: BUDGETS.portal },
  { name: 'admin', html: 'admin/index.html', budget: BUDGETS.admin },
  { name: 'desktop', html: 'desktop/index.html', budget: undefined },
] as const;

/** The scripts a built page loads: its module entries and the chunks it preloads. */
function scriptsOf(htmlFile: string): string[] {
  const html = readFileSync(path.join(WEB_ROOT, htmlFile), 'utf8');
  const urls = [
    ...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((m) => m[1]!);
  return [...new Set(urls)];
}

const gz = (file: string) => gzipSync(readFileSync(path.join(WEB_ROOT, file))).length;
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

if (webIsStale()) await buildWeb();

let failed = false;
const rows: string[][] = [['page', 'scripts', 'JS gzipped', 'budget', '']];
const loaded = new Map<string, string[]>();
for (const page of PAGES) {
  let scripts: string[];
  try {
    scripts = scriptsOf(page.html);
  } catch {
    rows.push([page.name, '-', 'not built', page.budget ? kb(page.budget) : '-', '']);
    continue;
  }
  loaded.set(page.name, scripts);
  const size = scripts.reduce((sum, s) => sum + gz(s.replace(/^\//, '')), 0);
  const over = page.budget !== undefined && size > page.budget;
  failed ||= over;
  rows.push([
    page.name,
    String(scripts.length),
    kb(size),
    page.budget ? kb(page.budget) : '-',
    page.budget
      ? `${((size / page.budget) * 100).toFixed(0)} % of budget${over ? '  OVER' : ''}`
      : '',
  ]);
}
// Vite names each page's own chunks after its entry (admin-*.js, desktop-*.js); shared chunks
// (Preact, the API client) may be loaded by several pages.
const leaked = (loaded.get('portal') ?? []).filter((s) => /\/(admin|desktop)-[^/]*\.js$/.test(s));

// The first load of the sign-in page, as Chromium transfers it from a local broker.
const home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-web-size-'));
const local = await startLocalBroker(
  loadConfig({
    PORT: '0',
    DESKBROKER_HOME: home,
    SITE_DB_URL: `pglite://${home}/site`,
    DESKBROKER_ADMIN_PASSWORD: 'web-size-bench',
    LOG_LEVEL: 'SILENT',
  }),
);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const transfers: { url: string; bytes: number }[] = [];
try {
  const page = await browser.newPage();
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes();
    transfers.push({
      url: new URL(request.url()).pathname,
      bytes: sizes.responseBodySize + sizes.responseHeadersSize + sizes.requestHeadersSize,
    });
  });
  await page.goto(local.url, { waitUntil: 'networkidle' });
  await page.getByLabel('User name').waitFor();
} finally {
  await browser.close();
  await local.stop();
  rmSync(home, { recursive: true, force: true });
}
const firstLoad = transfers.reduce((sum, t) => sum + t.bytes, 0);
const firstLoadOver = firstLoad > BUDGETS.firstLoad;
failed ||= firstLoadOver || leaked.length > 0;

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log('Page JavaScript (gzipped, every script the page loads):');
for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`);
console.log(
  `\nFirst load of the sign-in page: ${kb(firstLoad)} transferred in ${transfers.length} requests (budget ${kb(BUDGETS.firstLoad)}, ${((firstLoad / BUDGETS.firstLoad) * 100).toFixed(0)} %)${firstLoadOver ? '  OVER' : ''}`,
);
for (const t of transfers.sort((a, b) => b.bytes - a.bytes))
  console.log(`  ${kb(t.bytes).padStart(9)}  ${t.url}`);
console.log(
  leaked.length > 0
    ? `\nThe portal loads code of other pages: ${leaked.join(', ')}`
    : '\nThe portal loads none of the console’s or the desktop page’s own code.',
);
if (failed) console.error('web-size: a budget is exceeded');
process.exitCode = failed ? 1 : 0;
