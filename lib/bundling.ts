/**
 * How every Lambda handler is bundled. One set of esbuild settings, used by the CDK
 * functions (lib/constructs/broker-functions.ts) and by the bundle-size script
 * (scripts/bench/bundle-size.ts), so the sizes it prints are the sizes that deploy.
 * Plain values only: no CDK import, so the script loads fast.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where package.json and package-lock.json are). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The file of a handler under functions/handlers/. */
export const handlerEntry = (name: string): string =>
  path.join(REPO_ROOT, 'functions', 'handlers', `${name}.ts`);

/** Lambda's Node major version; the esbuild target follows it. */
export const NODE_TARGET = 'node22';

/**
 * Left out of every bundle. `@aws-sdk/*`: provided by the Lambda runtime. The others are
 * imported only on paths Lambda never takes (the site database is the Data API there, not
 * PGlite; `pg-native` is pg's optional native binding; dynalite is the local runtime's
 * DynamoDB stand-in; prom-client serves the local runtime's `GET /metrics`, Lambda writes
 * EMF), so they must not be bundled and are never loaded.
 */
export const EXTERNAL_MODULES: readonly string[] = [
  '@aws-sdk/*',
  '@electric-sql/pglite',
  'pg-native',
  'dynalite',
  'prom-client',
];

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

/** The per-handler budget of the minified bundle (DESIGN.md, "Each Lambda bundle is small"). */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;
