/**
 * Bundles every Lambda handler with the esbuild settings the CDK functions use
 * (lib/bundling.ts: ESM, minified, code splitting) and prints, for each, the code a cold start
 * loads (the entry and the chunks it imports statically) against the 300 KB budget, the total
 * it ships (every chunk, lazily loaded ones included), and the packages that weigh most in
 * what a cold start loads.
 *
 *   node scripts/bench/bundle-size.ts                 # table, AWS SDK bundled (as deployed)
 *   node scripts/bench/bundle-size.ts --sdk runtime   # the same with the runtime's SDK
 *   node scripts/bench/bundle-size.ts --json          # machine-readable
 *   node scripts/bench/bundle-size.ts --check         # exit 1 when a cold start loads over budget
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import {
  BUNDLE_BUDGET_BYTES,
  DEPLOYED_SDK,
  lambdaBuildOptions,
  NODE_TARGET,
  REPO_ROOT,
  type SdkSource,
} from '../../lib/bundling.ts';

/** Every handler that becomes a Lambda function. */
export const HANDLERS: readonly string[] = [
  ...HTTP_FUNCTIONS.map((f) => f.name),
  'jobs',
  'migrate',
];

/** The AWS SDK and the packages only it brings (reported apart when bundled). */
const SDK_PACKAGE =
  /^(@aws-sdk|@smithy|@aws-crypto)\/|^(tslib|fast-xml-parser|strnum|bowser|mnemonist|obliterator)$/;

/**
 * Modules imported with `await import()` that every Lambda cold start loads all the same: the
 * Data API dialect and its client (the site database is the Data API on Lambda, opened at
 * composition), and the SDK's environment credentials (Lambda's role comes that way). Their
 * chunks count as loaded at cold start. scripts/bench/cold-start.ts checks this list against
 * the files a first request really loads.
 */
export const LOADED_BY_EVERY_COLD_START: readonly string[] = [
  'functions/adapters/site-db/data-api-dialect.ts',
  'node_modules/@aws-sdk/client-rds-data/dist-es/index.js',
  'node_modules/@aws-sdk/credential-provider-env/dist-es/index.js',
];

export interface BundleOutput {
  /** Relative to the asset folder: `index.mjs`, `chunks/….mjs`. */
  readonly file: string;
  readonly bytes: number;
  /**
   * Loaded by every cold start: the entry, a chunk it imports statically, or one of
   * {@link LOADED_BY_EVERY_COLD_START} and what that imports statically.
   */
  readonly initial: boolean;
}

export interface BundleReport {
  readonly handler: string;
  readonly sdk: SdkSource;
  /** The asset folder, as deployed (until {@link BundleReport.remove}). */
  readonly dir: string;
  readonly outputs: readonly BundleOutput[];
  /** What a cold start loads (see {@link BundleOutput.initial}), minified. */
  readonly initialBytes: number;
  /** Of which the bundled AWS SDK and its dependencies (0 with the runtime's SDK). */
  readonly initialSdkBytes: number;
  /** The broker's own share of a cold start's load: initialBytes − initialSdkBytes. */
  readonly brokerBytes: number;
  /** gzip of what a cold start loads. */
  readonly initialGzipBytes: number;
  /** Every chunk shipped, lazily loaded ones included. */
  readonly totalBytes: number;
  /** Bytes a cold start loads per package (or `functions/` for our own code), largest first. */
  readonly inputs: readonly { readonly source: string; readonly bytes: number }[];
  /** Every input file of every chunk, relative to the repository root. */
  readonly files: readonly string[];
  /** The input files of what a cold start loads. */
  readonly initialFiles: readonly string[];
  /** Modules the bundle imports at run time (externals and Node built-ins), any chunk. */
  readonly imports: readonly string[];
  /** Modules imported at run time by what a cold start loads (statically). */
  readonly initialImports: readonly string[];
  remove(): void;
}

const packageOf = (file: string): string =>
  file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? file.split('/')[0]!;

/**
 * Bundles one handler exactly as the CDK does, into a new temporary folder.
 * @throws when esbuild fails.
 */
export async function bundleHandler(
  handler: string,
  sdk: SdkSource = DEPLOYED_SDK,
): Promise<BundleReport> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deskbroker-${handler}-`));
  const result = await esbuild.build({
    ...lambdaBuildOptions(handler, dir, sdk),
    logLevel: 'silent',
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  // (Chunks of dynamic imports are entry points too: the handler's is the one named index.)
  const entry = outputs.find(
    ([file]) => path.join(REPO_ROOT, file) === path.join(dir, 'index.mjs'),
  )![0];
  // What a cold start loads: the entry's static closure, and the chunks (with their static
  // closures) of the dynamic imports that every cold start takes.
  const initial = new Set<string>();
  const pending = [
    entry,
    ...outputs
      .filter(
        ([, o]) => o.entryPoint !== undefined && LOADED_BY_EVERY_COLD_START.includes(o.entryPoint),
      )
      .map(([file]) => file),
  ];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (initial.has(file)) continue;
    initial.add(file);
    for (const i of result.metafile.outputs[file]!.imports) {
      if (i.kind === 'import-statement' && !i.external) pending.push(i.path);
    }
  }
  const bySource = new Map<string, number>();
  let initialBytes = 0;
  let initialSdkBytes = 0;
  let initialGzipBytes = 0;
  const initialImports = new Set<string>();
  const initialFiles = new Set<string>();
  for (const file of initial) {
    const output = result.metafile.outputs[file]!;
    initialBytes += output.bytes;
    initialGzipBytes += gzipSync(readFileSync(path.join(REPO_ROOT, file))).length;
    const inputs = Object.entries(output.inputs);
    for (const [input, info] of inputs) {
      initialFiles.add(input);
      const source = packageOf(input);
      bySource.set(source, (bySource.get(source) ?? 0) + info.bytesInOutput);
    }
    // A chunk of SDK code only counts whole as the SDK's (its imports and banner included);
    // in a mixed chunk, the SDK's inputs.
    const sdkInputs = inputs.filter(([input]) => SDK_PACKAGE.test(packageOf(input)));
    initialSdkBytes +=
      sdkInputs.length === inputs.length
        ? output.bytes
        : sdkInputs.reduce((sum, [, info]) => sum + info.bytesInOutput, 0);
    for (const i of output.imports) {
      if (i.external && i.kind === 'import-statement') initialImports.add(i.path);
    }
  }
  const imports = new Set(
    outputs.flatMap(([, o]) => o.imports.filter((i) => i.external).map((i) => i.path)),
  );
  return {
    handler,
    sdk,
    dir,
    outputs: outputs.map(([file, o]) => ({
      file: path.relative(dir, path.join(REPO_ROOT, file)),
      bytes: o.bytes,
      initial: initial.has(file),
    })),
    initialBytes,
    initialSdkBytes,
    brokerBytes: initialBytes - initialSdkBytes,
    initialGzipBytes,
    totalBytes: outputs.reduce((sum, [, o]) => sum + o.bytes, 0),
    inputs: [...bySource]
      .map(([source, bytes]) => ({ source, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
    files: Object.keys(result.metafile.inputs),
    initialFiles: [...initialFiles].sort(),
    imports: [...imports].sort(),
    initialImports: [...initialImports].sort(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function main(args: readonly string[]): Promise<number> {
  const sdk: SdkSource = args.includes('--sdk')
    ? (args[args.indexOf('--sdk') + 1] as SdkSource)
    : DEPLOYED_SDK;
  const reports: BundleReport[] = [];
  for (const handler of HANDLERS) {
    const report = await bundleHandler(handler, sdk);
    report.remove();
    reports.push(report);
  }
  if (args.includes('--json')) {
    console.log(
      JSON.stringify(
        reports.map((r) => ({
          handler: r.handler,
          sdk: r.sdk,
          coldStartBytes: r.initialBytes,
          sdkBytes: r.initialSdkBytes,
          brokerBytes: r.brokerBytes,
          coldStartGzipBytes: r.initialGzipBytes,
          totalBytes: r.totalBytes,
          chunks: r.outputs.length,
          top: r.inputs.slice(0, 6),
        })),
        null,
        2,
      ),
    );
  } else {
    console.log(
      `Lambda bundles (esbuild ${esbuild.version}, ${NODE_TARGET}, ESM, minified, code splitting; AWS SDK: ${sdk === 'runtime' ? "the Lambda runtime's" : 'bundled, counted apart'}; budget ${kb(BUNDLE_BUDGET_BYTES)} of broker code per cold start)\n`,
    );
    const sdkColumn = sdk === 'bundled' ? ` ${'+ SDK'.padStart(10)}` : '';
    console.log(
      `${'handler'.padEnd(12)} ${'cold start'.padStart(10)}${sdkColumn} ${'gzip'.padStart(10)} ${'shipped'.padStart(10)} ${'chunks'.padStart(6)}  budget  largest inputs of a cold start (KB)`,
    );
    for (const r of reports) {
      const verdict = r.brokerBytes <= BUNDLE_BUDGET_BYTES ? 'ok    ' : 'OVER  ';
      const top = r.inputs
        .filter((i) => !SDK_PACKAGE.test(i.source))
        .slice(0, 6)
        .map((i) => `${i.source} ${Math.round(i.bytes / 1024)}`)
        .join(', ');
      const sdkCell = sdk === 'bundled' ? ` ${kb(r.initialSdkBytes).padStart(10)}` : '';
      console.log(
        `${r.handler.padEnd(12)} ${kb(r.brokerBytes).padStart(10)}${sdkCell} ${kb(r.initialGzipBytes).padStart(10)} ${kb(r.totalBytes).padStart(10)} ${String(r.outputs.length).padStart(6)}  ${verdict}  ${top}`,
      );
    }
    console.log(
      `\ncold start: what every cold start loads (the entry, the chunks it imports statically, and the chunks of the Data API dialect, its client and the SDK's environment credentials); shipped: every chunk of the asset, the lazily loaded ones included.`,
    );
  }
  const over = reports.filter((r) => r.brokerBytes > BUNDLE_BUDGET_BYTES);
  return args.includes('--check') && over.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
