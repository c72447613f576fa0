/**
 * The Lambda bundles, built with the CDK's esbuild settings (scripts/bench/bundle-size.ts;
 * code splitting: `index.mjs` and `chunks/`): no CDK, test or local-runtime code inside, only
 * run-time imports Lambda can satisfy, the rare paths (LDAP, pg, PGlite, failover, migrations,
 * MFA, YAML, Prometheus) in chunks that a cold start does not load, what a cold start loads
 * within the 300 KB budget (or, for the bundles named in OVER_BUDGET, under a regression
 * ceiling with the reason), and each one loads in a folder that holds only the native-module
 * install (argon2): the AWS SDK is bundled (lib/bundling.ts DEPLOYED_SDK), so the runtime's is
 * left out; PGlite, pg-native and dynalite are absent, so a bundle that imported them at start
 * would fail here.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, REPO_ROOT } from '../../lib/bundling.ts';
import { type BundleReport, bundleHandler, HANDLERS } from '../../scripts/bench/bundle-size.ts';

/**
 * The bundles whose cold start loads more than the 300 KB budget: a ceiling about 5 % above
 * what they load now, and why they are over.
 */
const OVER_BUDGET: Readonly<Record<string, { readonly ceilingKb: number; readonly why: string }>> =
  {
    // Measured 2026-11-27 (node scripts/bench/bundle-size.ts): 310, 369, 359, 339, 498, 346,
    // 355 and 369 KB. Common to all: Kysely 168 KB (its Kysely class brings every query and
    // schema builder; and since its index re-exports Migrator and the pg and PGlite drivers,
    // code splitting cannot keep those out of the first chunk: esbuild places whole files) and
    // zod/mini 40 KB leave 92 KB for Powertools (34 KB), middy (6 KB) and the broker's code.
    health: { ceilingKb: 325, why: 'Kysely and zod leave 92 KB; its own code is 53 KB' },
    login: {
      ceilingKb: 388,
      why: 'its own code is 107 KB: sign-in, sessions, throttling, leases and the offer list',
    },
    offers: {
      ceilingKb: 377,
      why: 'its own code is 97 KB: offers, connect and release with leases and gateways',
    },
    agent: { ceilingKb: 356, why: 'its own code is 82 KB: agent events with leases and releases' },
    admin: {
      ceilingKb: 523,
      why: 'it composes the whole broker (165 KB of its code) and zod-openapi brings classic zod back (93 KB)',
    },
    'gateway-api': {
      ceilingKb: 363,
      why: 'its own code is 87 KB: signed requests, registrations, tickets and leased forwards',
    },
    jobs: {
      ceilingKb: 372,
      why: 'its own code is 93 KB: every job body, the ledger and SQS delivery',
    },
    migrate: {
      ceilingKb: 387,
      why: 'it composes the whole broker (116 KB of its code) to seal secrets and create the admin',
    },
  };

/**
 * Packages and files that only rare paths use (LDAP, pg, MFA, YAML, failover, migrations,
 * Prometheus, the leasing upkeep): never in what a cold start loads.
 */
const LAZY_ONLY = [
  'node_modules/ldapts/',
  'node_modules/pg/',
  'node_modules/pg-pool/',
  'node_modules/otplib/',
  'node_modules/yaml/',
  'functions/adapters/auth/ldap-authenticator.ts',
  'functions/adapters/site-db/failover.ts',
  'functions/adapters/site-db/migration-list.ts',
  'functions/adapters/site-db/leasing-queries.ts',
  'functions/adapters/site-db/outbox-replayer.ts',
  'functions/adapters/site-db/postgres-dialect.ts',
  'functions/adapters/site-db/pglite-dialect.ts',
  'functions/adapters/metrics/prometheus-metrics.ts',
  'functions/core/login/mfa.ts',
];

const reports = new Map<string, BundleReport>();
let lambdaDir: string;

/** A folder like a deployed function's: node_modules with argon2 only (the SDK is bundled). */
function lambdaLikeFolder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-bundle-'));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, '@phc'), { recursive: true });
  // lambda-code.ts installs argon2 and its dependencies beside the bundles that import it.
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
      `${r.handler} ${(r.brokerBytes / 1024).toFixed(0)} KB at cold start, ${(r.totalBytes / 1024).toFixed(0)} KB shipped${r.brokerBytes > BUNDLE_BUDGET_BYTES ? ' (over the 300 KB budget)' : ''}`,
  );
  console.log(`bundle sizes: ${sizes.join(', ')}`);
});
afterAll(() => {
  for (const r of reports.values()) r.remove();
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

  it('imports at run time only Node built-ins, argon2 and the never-loaded dialects (the SDK is bundled)', () => {
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
      .imports.filter((i) => !i.startsWith('node:') && !allowed.has(i));
    expect(unexpected).toEqual([]);
  });

  it('keeps the rare paths in chunks that a cold start does not load', () => {
    const report = reports.get(handler)!;
    const loaded = report.initialFiles.filter((f) => LAZY_ONLY.some((lazy) => f.startsWith(lazy)));
    expect(loaded).toEqual([]);
    expect(report.outputs.filter((o) => !o.initial).length).toBeGreaterThan(0);
  });

  it('loads with only what Lambda provides and exports a handler', () => {
    const folder = path.join(lambdaDir, handler);
    cpSync(reports.get(handler)!.dir, folder, { recursive: true });
    const file = path.join(folder, 'index.mjs');
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

  const over = OVER_BUDGET[handler];
  if (over) {
    it(`loads at cold start under its ceiling of ${over.ceilingKb} KB, over the budget because ${over.why}`, () => {
      expect(reports.get(handler)!.brokerBytes).toBeLessThanOrEqual(over.ceilingKb * 1024);
    });
  } else {
    it(`loads at cold start within the ${BUNDLE_BUDGET_BYTES / 1024} KB budget`, () => {
      expect(reports.get(handler)!.brokerBytes).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    });
  }
});
