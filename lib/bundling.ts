/**
 * How every Lambda handler is bundled. One set of esbuild settings ({@link lambdaBuildOptions}),
 * used by the CDK functions (lib/constructs/lambda-code.ts) and by the bundle-size and
 * cold-start scripts (scripts/bench/), so the sizes and times they print are those of what
 * deploys. Plain values only: no CDK import, so the scripts load fast.
 *
 * Code splitting: each function's asset is a folder, `index.mjs` (the entry, with the code
 * every request needs) and `chunks/*.mjs`, which load only when reached: the modules the
 * broker imports with `await import()` (LDAP, pg, the Data API dialect, failover, migrations,
 * MFA, YAML...). A cold start loads the entry and the chunks it imports statically.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root (where package.json and package-lock.json are). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The file of a handler under functions/handlers/. */
export const handlerEntry = (name: string): string =>
  path.join(REPO_ROOT, 'functions', 'handlers', `${name}.ts`);

/** Lambda's Node major version; the esbuild target follows it. */
export const NODE_TARGET = 'node22';

/**
 * Left out of every bundle: imported only on paths Lambda never takes (the site database is
 * the Data API there, not PGlite; `pg-native` is pg's optional native binding; dynalite is the
 * local runtime's DynamoDB stand-in; prom-client serves the local runtime's `GET /metrics`,
 * Lambda writes EMF), so they must not be bundled and are never loaded.
 */
export const EXTERNAL_MODULES: readonly string[] = [
  '@electric-sql/pglite',
  'pg-native',
  'dynalite',
  'prom-client',
];

/** The AWS SDK v3, as Lambda's Node 22 runtime provides it. */
export const RUNTIME_SDK: readonly string[] = ['@aws-sdk/*'];

/**
 * Native modules installed next to the bundle (CDK `nodeModules`) instead of bundled.
 * argon2 ships prebuilt binaries for linux-arm64 (glibc and musl) inside its npm package,
 * so the install needs no compiler and no Docker.
 */
export const NATIVE_MODULES: readonly string[] = ['argon2'];

/**
 * ESM output still contains CommonJS dependencies (pg, ldapts' helpers) that call
 * `require` for Node built-ins; esbuild's ESM output has no `require`, so give it one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __deskbrokerCreateRequire } from 'node:module'; const require = __deskbrokerCreateRequire(import.meta.url);";

/** Prefer packages' ESM builds (they tree-shake); fall back to CommonJS. */
export const MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * The per-handler budget of the minified code a cold start loads (DESIGN.md, "Each Lambda
 * bundle is small"): the entry and the chunks it imports statically, without a bundled SDK.
 */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;

/**
 * Where the AWS SDK comes from: `bundled`, minified into the chunks with the rest (as
 * deployed); `runtime`, the SDK v3 that Lambda's Node 22 runtime provides, left external.
 */
export type SdkSource = 'runtime' | 'bundled';

/**
 * The deployed choice, by the figures of scripts/bench/cold-start.ts (README, "Performance"):
 * with the clients bundled and minified, a cold start (import and first request) is 32 to
 * 52 ms shorter than with the runtime's SDK, whose CommonJS files Node reads, lexes and links
 * one by one. It also pins the SDK version to the lock file. A cold start then loads 245 to
 * 275 KB of SDK code from the bundle; the 300 KB budget counts the broker's code without it.
 */
export const DEPLOYED_SDK: SdkSource = 'bundled';

/** The modules left out of a bundle. */
export function externalModules(sdk: SdkSource = DEPLOYED_SDK): string[] {
  return [...EXTERNAL_MODULES, ...NATIVE_MODULES, ...(sdk === 'runtime' ? RUNTIME_SDK : [])];
}

/**
 * The esbuild options of one function's asset folder: `outdir/index.mjs` exporting `handler`,
 * its chunks under `outdir/chunks/`, source maps beside them (without the sources).
 */
export function lambdaBuildOptions(
  name: string,
  outdir: string,
  sdk: SdkSource = DEPLOYED_SDK,
): BuildOptions & { metafile: true } {
  return {
    entryPoints: { index: handlerEntry(name) },
    absWorkingDir: REPO_ROOT,
    bundle: true,
    splitting: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: [...MAIN_FIELDS],
    banner: { js: ESM_REQUIRE_BANNER },
    external: externalModules(sdk),
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    // The asset folder has no package.json: `.mjs` makes every file an ES module.
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'warning',
  };
}
