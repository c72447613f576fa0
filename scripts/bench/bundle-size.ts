/**
 * Bundles every Lambda handler with the esbuild settings the CDK functions use
 * (lib/bundling.ts) and prints each bundle's size against the 300 KB budget, with the
 * packages that weigh most.
 *
 *   node scripts/bench/bundle-size.ts            # table
 *   node scripts/bench/bundle-size.ts --json     # machine-readable
 *   node scripts/bench/bundle-size.ts --check    # exit 1 when a bundle is over budget
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import {
  BUNDLE_BUDGET_BYTES,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  handlerEntry,
  MAIN_FIELDS,
  NATIVE_MODULES,
  NODE_TARGET,
  REPO_ROOT,
} from '../../lib/bundling.ts';

/** Every handler that becomes a Lambda function. */
export const HANDLERS: readonly string[] = [
  ...HTTP_FUNCTIONS.map((f) => f.name),
  'jobs',
  'migrate',
];

export interface BundleReport {
  readonly handler: string;
  /** The minified JavaScript, as deployed. */
  readonly code: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Bytes in the output per package (or `functions/` for our own code), largest first. */
  readonly inputs: readonly { readonly source: string; readonly bytes: number }[];
  /** Every input file, relative to the repository root. */
  readonly files: readonly string[];
  /** Modules the bundle imports at run time (externals and Node built-ins). */
  readonly imports: readonly string[];
}

/**
 * Bundles one handler exactly as the CDK does (minus the source map file).
 * @throws when esbuild fails.
 */
export async function bundleHandler(handler: string): Promise<BundleReport> {
  const result = await esbuild.build({
    entryPoints: [handlerEntry(handler)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    minify: true,
    sourcemap: false,
    mainFields: [...MAIN_FIELDS],
    banner: { js: ESM_REQUIRE_BANNER },
    external: [...EXTERNAL_MODULES, ...NATIVE_MODULES],
    outfile: 'index.mjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const output = Object.values(result.metafile.outputs)[0]!;
  const bySource = new Map<string, number>();
  for (const [file, info] of Object.entries(output.inputs)) {
    const pkg = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
    const source = pkg ?? file.split('/')[0]!;
    bySource.set(source, (bySource.get(source) ?? 0) + info.bytesInOutput);
  }
  return {
    handler,
    code,
    bytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code).length,
    inputs: [...bySource]
      .map(([source, bytes]) => ({ source, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
    files: Object.keys(result.metafile.inputs),
    imports: [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))].sort(),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function main(args: readonly string[]): Promise<number> {
  const reports = [];
  for (const handler of HANDLERS) reports.push(await bundleHandler(handler));
  if (args.includes('--json')) {
    console.log(
      JSON.stringify(
        reports.map(({ handler, bytes, gzipBytes, inputs }) => ({
          handler,
          bytes,
          gzipBytes,
          top: inputs.slice(0, 6),
        })),
        null,
        2,
      ),
    );
  } else {
    console.log(
      `Lambda bundles (esbuild ${esbuild.version}, ${NODE_TARGET}, ESM, minified; budget ${kb(BUNDLE_BUDGET_BYTES)})\n`,
    );
    console.log(
      `${'handler'.padEnd(12)} ${'minified'.padStart(10)} ${'gzip'.padStart(10)}  budget  largest inputs`,
    );
    for (const r of reports) {
      const verdict = r.bytes <= BUNDLE_BUDGET_BYTES ? 'ok    ' : 'OVER  ';
      const top = r.inputs
        .slice(0, 5)
        .map((i) => `${i.source} ${Math.round(i.bytes / 1024)}`)
        .join(', ');
      console.log(
        `${r.handler.padEnd(12)} ${kb(r.bytes).padStart(10)} ${kb(r.gzipBytes).padStart(10)}  ${verdict}  ${top}`,
      );
    }
  }
  const over = reports.filter((r) => r.bytes > BUNDLE_BUDGET_BYTES);
  return args.includes('--check') && over.length > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
