/**
 * Builds the pages (web/ → web/dist/) with Vite.
 *
 *   node scripts/build-web.ts              build
 *   node scripts/build-web.ts --if-stale   build only when a source is newer than the last build
 *
 * `npm start` and the test setup run it with --if-stale, so the README's two commands stay the
 * whole set-up; a build takes about a second.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const web = path.join(root, 'web');
const stamp = path.join(web, 'dist', '.built');

/** The newest modification time under `p` (a file or a folder), 0 when absent. */
function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const entry of readdirSync(p)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    max = Math.max(max, newest(path.join(p, entry)));
  }
  return max;
}

/** Modules outside web/ that the pages import as code, not only as types. */
const SHARED = ['functions/core/gateways/html5-wire.ts'];

export function webIsStale(): boolean {
  if (!existsSync(stamp)) return true;
  const sources = Math.max(
    newest(web),
    newest(path.join(root, 'package-lock.json')),
    ...SHARED.map((f) => newest(path.join(root, f))),
  );
  return sources > statSync(stamp).mtimeMs;
}

export async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  if (!ifStale || webIsStale()) {
    const started = Date.now();
    await buildWeb();
    console.error(`web: built web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
