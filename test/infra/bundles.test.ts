/**
 * The Lambda bundles, built with the CDK's esbuild settings (scripts/bench/bundle-size.ts):
 * no CDK, test or local-runtime code inside, only run-time imports Lambda can satisfy, and
 * each one loads in a folder that holds only what Lambda holds: the runtime's AWS SDK and the
 * `nodeModules` install (argon2). PGlite, pg-native and dynalite are absent there, so a
 * bundle that imported them at start would fail here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, REPO_ROOT } from '../../lib/bundling.ts';
import { type BundleReport, bundleHandler, HANDLERS } from '../../scripts/bench/bundle-size.ts';

/** A regression ceiling, far above the 300 KB target (which the script reports). */
const CEILING_BYTES = 1536 * 1024;

const reports = new Map<string, BundleReport>();
let lambdaDir: string;

/** A folder like a deployed function's: node_modules with the SDK and argon2 only. */
function lambdaLikeFolder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-bundle-'));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, '@aws-sdk'), { recursive: true });
  mkdirSync(path.join(modules, '@phc'), { recursive: true });
  // The Lambda runtime provides the AWS SDK v3.
  for (const pkg of ['client-dynamodb', 'lib-dynamodb', 'client-sqs', 'client-rds-data']) {
    symlinkSync(
      path.join(REPO_ROOT, 'node_modules', '@aws-sdk', pkg),
      path.join(modules, '@aws-sdk', pkg),
    );
  }
  // nodeModules: ['argon2'] installs argon2 and its dependencies.
  for (const pkg of ['argon2', 'node-gyp-build', '@phc/format']) {
    symlinkSync(path.join(REPO_ROOT, 'node_modules', pkg), path.join(modules, pkg));
  }
  return dir;
}

beforeAll(async () => {
  for (const handler of HANDLERS) reports.set(handler, await bundleHandler(handler));
  lambdaDir = lambdaLikeFolder();
  const sizes = [...reports.values()].map(
    (r) =>
      `${r.handler} ${(r.bytes / 1024).toFixed(0)} KB${r.bytes > BUNDLE_BUDGET_BYTES ? ' (over the 300 KB target)' : ''}`,
  );
  console.log(`bundle sizes: ${sizes.join(', ')}`);
});
afterAll(() => {
  if (lambdaDir) rmSync(lambdaDir, { recursive: true, force: true });
});

describe.each(HANDLERS)('%s bundle', (handler) => {
  it('holds no CDK, test, local-runtime or deployment code', () => {
    const files = reports.get(handler)!.files;
    const forbidden = files.filter((f) =>
      /(^|\/)(aws-cdk-lib|constructs|cdk-nag|vitest|esbuild)\/|^test\/|^lib\/|^scripts\/|^functions\/local\//.test(
        f,
      ),
    );
    expect(forbidden).toEqual([]);
    expect(files).toContain(`functions/handlers/${handler}.ts`);
  });

  it('imports at run time only Node built-ins, the AWS SDK, argon2 and the never-loaded dialects', () => {
    const allowed = new Set([
      ...builtinModules,
      'argon2',
      '@electric-sql/pglite',
      'pg-native',
      'dynalite',
      'prom-client',
    ]);
    const unexpected = reports
      .get(handler)!
      .imports.filter(
        (i) => !i.startsWith('node:') && !i.startsWith('@aws-sdk/') && !allowed.has(i),
      );
    expect(unexpected).toEqual([]);
  });

  it('loads with only what Lambda provides and exports a handler', () => {
    const file = path.join(lambdaDir, `${handler}.mjs`);
    writeFileSync(file, reports.get(handler)!.code);
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(file)}); if (typeof m.handler !== 'function') { console.error('no handler'); process.exit(3); }`,
      ],
      { cwd: lambdaDir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it(`stays under the regression ceiling (${CEILING_BYTES / 1024} KB minified)`, () => {
    expect(reports.get(handler)!.bytes).toBeLessThan(CEILING_BYTES);
  });
});
