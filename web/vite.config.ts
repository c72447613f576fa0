/**
 * The browser side: one Vite multi-page build. Each page is an HTML entry with its own script,
 * so a page loads only its own code (the console's and the HTML5 desktop's never reach the
 * portal). Output: web/dist/, served by the local runtime and, on AWS, from S3 behind
 * CloudFront. No inline scripts or styles anywhere, for the strict Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Page entries: the portal always, the console and the desktop page once they exist. */
const pages = Object.fromEntries(
  Object.entries({
    portal: 'index.html',
    admin: 'admin/index.html',
    desktop: 'desktop/index.html',
    notFound: '404.html',
  })
    .map(([name, file]) => [name, here(file)] as const)
    .filter(([, file]) => existsSync(file)),
);

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('public'),
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    // Small assets stay files: a data: URL would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: { input: pages },
    reportCompressedSize: false,
  },
});
