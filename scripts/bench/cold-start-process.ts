/**
 * The processes of the cold-start benchmark (cold-start.ts): the folder like Lambda's, the
 * runner that imports a bundle and answers one event, the SDK-only twins, and what a first
 * request loads.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { lambdaBuildOptions, REPO_ROOT, type SdkSource } from '../../lib/bundling.ts';
import { bundleHandler } from './bundle-size.ts';

/** The region of the stand-ins and of the functions' environment. */
export const REGION = 'eu-west-1';

/** The process that Lambda's runtime would be: import index.mjs, answer one event, report. */
const RUNNER = `
import { pathToFileURL } from 'node:url';
const [dir, eventFile] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
if (process.env.COLD_START_LOADED) {
  // An untimed run: notes every file the process loads (module hooks slow loading down).
  const { register } = await import('node:module');
  const hooks = "import { appendFileSync } from 'node:fs'; let file; export function initialize(data) { file = data.file; } export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(file, url + String.fromCharCode(10)); return next(url, context); }";
  register('data:text/javascript,' + encodeURIComponent(hooks), { data: { file: process.env.COLD_START_LOADED } });
}
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const start = performance.now();
const m = await import(pathToFileURL(dir + '/index.mjs').href);
const loaded = performance.now();
const context = {
  functionName: 'cold-start', functionVersion: '$LATEST', awsRequestId: 'cold-start',
  invokedFunctionArn: 'arn:aws:lambda:${REGION}:123456789012:function:cold-start',
  memoryLimitInMB: '1024', logGroupName: '/aws/lambda/cold-start', logStreamName: 'x',
  getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: true,
};
const profileDir = process.env.COLD_START_PROFILE;
let session;
if (profileDir && !dir.endsWith('-twin')) {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
const result = await m.handler(event, context);
const answered = performance.now();
if (session) {
  const { profile } = await session.post('Profiler.stop');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(profileDir + '/first-request-' + process.pid + '.cpuprofile', JSON.stringify(profile));
}
process.stdout.write('\\n@@' + JSON.stringify({ load: loaded - start, total: answered, status: result?.statusCode }) + '\\n');
process.exit(0);
`;

export interface Run {
  /** Importing index.mjs (ms). */
  readonly load: number;
  /** From process start to the first answer (ms): Node's own start, the import, the request. */
  readonly total: number;
  readonly status: number | undefined;
}

/** A folder like Lambda's: node_modules with the runtime's SDK (unless bundled) and argon2. */
export function lambdaRoot(sdk: SdkSource): string {
  const root = mkdtempSync(path.join(os.tmpdir(), `deskbroker-cold-${sdk}-`));
  const modules = path.join(root, 'node_modules');
  mkdirSync(path.join(modules, '@phc'), { recursive: true });
  if (sdk === 'runtime') {
    symlinkSync(path.join(REPO_ROOT, 'node_modules', '@aws-sdk'), path.join(modules, '@aws-sdk'));
  }
  for (const pkg of ['argon2', 'node-gyp-build', '@phc/format']) {
    symlinkSync(path.join(REPO_ROOT, 'node_modules', pkg), path.join(modules, pkg));
  }
  writeFileSync(path.join(root, 'run.mjs'), RUNNER);
  return root;
}

/**
 * The schema check every handler's first request starts with: one Data API statement. The
 * calling twin sends it, so that the SDK's own first-call work (endpoint, signing, connection)
 * shows apart from the broker's code.
 */
const FIRST_CALL = `
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
const client = new RDSDataClient({ region: process.env.AWS_REGION, endpoint: process.env.RDS_DATA_ENDPOINT, maxAttempts: 2 });
const statement = new ExecuteStatementCommand({ resourceArn: process.env.SITE_DB_CLUSTER_ARN, secretArn: process.env.SITE_DB_SECRET_ARN, database: process.env.SITE_DB_NAME, sql: 'select name from schema_migration order by name' });
export const handler = async () => { await client.send(statement); return { statusCode: 200, body: 'twin' }; };
`;

/**
 * The twin: imports `clients` and answers 200 (with `call`, after the schema check's Data API
 * statement). Bundled like the broker when the SDK is.
 */
export async function buildTwin(
  dir: string,
  clients: readonly string[],
  sdk: SdkSource,
  call: boolean,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const source = [
    ...clients.map((c, i) => `import * as sdk${i} from '${c}';`),
    `export const loaded = [${clients.map((_, i) => `sdk${i}`).join(', ')}].length;`,
    call ? FIRST_CALL : "export const handler = async () => ({ statusCode: 200, body: 'twin' });",
    '',
  ].join('\n');
  if (sdk === 'runtime') {
    writeFileSync(path.join(dir, 'index.mjs'), source);
    return;
  }
  const entry = path.join(dir, 'twin-source.mjs');
  writeFileSync(entry, source);
  await esbuild.build({
    ...lambdaBuildOptions('health', dir, 'bundled'),
    entryPoints: { index: entry },
    nodePaths: [path.join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  rmSync(entry);
}

/**
 * The SDK packages a bundle's cold start imports statically, read by esbuild from the files
 * (the entry and the chunks it imports statically), so prebuilt bundles (`--bundles`, built
 * with the runtime's SDK) are read the same way.
 */
export async function runtimeSdkImports(
  handler: string,
  bundles: string | undefined,
): Promise<string[]> {
  const report = bundles ? undefined : await bundleHandler(handler, 'runtime');
  const dir = bundles ? path.join(bundles, handler) : report!.dir;
  const { metafile } = await esbuild.build({
    entryPoints: [path.join(dir, 'index.mjs')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  report?.remove();
  const entry = Object.keys(metafile.inputs).find((f) => f.endsWith('index.mjs'))!;
  const found = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of metafile.inputs[file]!.imports) {
      if (i.kind !== 'import-statement') continue;
      if (i.external && i.path.startsWith('@aws-sdk/')) found.add(i.path);
      else if (!i.external) pending.push(i.path);
    }
  }
  return [...found];
}

/** The bundle's files (relative to `dir`) that one first request loads, in an untimed run. */
export async function loadedFiles(
  root: string,
  dir: string,
  eventFile: string,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const list = path.join(root, `loaded-${path.basename(dir)}.txt`);
  writeFileSync(list, '');
  await runOnce(root, dir, eventFile, { ...env, COLD_START_LOADED: list });
  return [
    ...new Set(
      readFileSync(list, 'utf8')
        .split('\n')
        .filter((url) => url.startsWith('file:'))
        .map((url) => path.relative(dir, fileURLToPath(url)))
        .filter((f) => !f.startsWith('..') && f.endsWith('.mjs')),
    ),
  ].sort();
}

/** One cold start in a child process (asynchronous: the stand-ins run in this process). */
export function runOnce(root: string, dir: string, eventFile: string, env: NodeJS.ProcessEnv) {
  return new Promise<Run>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(root, 'run.mjs'), dir, eventFile],
      { cwd: dir, env, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('@@'));
        if (!line) {
          reject(new Error(`${dir} did not answer (${error?.message}): ${stderr.slice(-2000)}`));
          return;
        }
        resolve(JSON.parse(line.slice(2)) as Run);
      },
    );
  });
}
