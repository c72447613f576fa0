/**
 * Cold starts of the Lambda bundles: each bundle, built as the CDK builds it (lib/bundling.ts),
 * is imported in a fresh Node process that then answers its first request, against real local
 * stand-ins (PostgreSQL behind the Data API stand-in, dynalite for the state table), with the
 * environment a deployed function has (METRICS=emf, NODE_OPTIONS=--enable-source-maps). Beside
 * each bundle runs its minimal twin: a handler that only imports the AWS SDK clients the bundle
 * loads for that request and answers at once. The difference is what the broker's own code
 * costs. Both run from a folder like Lambda's (the runtime's SDK beside it, argon2 where the
 * bundle imports it), interleaved, `--runs` times each; medians and maxima are printed.
 *
 * It runs twice: with the SDK from the Lambda runtime (external) and with the SDK bundled and
 * minified into the chunks (as deployed, lib/bundling.ts DEPLOYED_SDK), the twin bundling the
 * same clients the same way; the last table compares the two.
 *
 *   node scripts/bench/cold-start.ts                          # both SDK choices, every HTTP handler
 *   node scripts/bench/cold-start.ts --sdk bundled --runs 10 --handlers health,login
 *   node scripts/bench/cold-start.ts --bundles DIR            # prebuilt folders DIR/<handler>/
 *   node scripts/bench/cold-start.ts --node-options ''        # without --enable-source-maps
 *   node scripts/bench/cold-start.ts --profile DIR            # CPU profiles of the first requests
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (as the tests do).
 */
import { cpSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSiteDatabase } from '../../functions/adapters/site-db/connect.ts';
import { migrateToLatest } from '../../functions/adapters/site-db/migrate.ts';
import { createStateTable, ensureStateTable } from '../../functions/adapters/state/state-table.ts';
import { startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import type { SdkSource } from '../../lib/bundling.ts';
import { albEvent } from '../../test/helpers/alb-events.ts';
import { startDataApiServer } from '../../test/helpers/data-api-server.ts';
import { createTestDatabase } from '../../test/helpers/pg.ts';
import { bundleHandler } from './bundle-size.ts';
import {
  buildTwin,
  lambdaRoot,
  loadedFiles,
  REGION,
  type Run,
  runOnce,
  runtimeSdkImports,
} from './cold-start-process.ts';

/**
 * Each HTTP handler's first request: a real one, answered with the stand-ins' data. Run `i`
 * gets its own user name and address, so failed logins never reach the lockout (429).
 */
const FIRST_REQUESTS: Readonly<
  Record<string, { readonly what: string; readonly event: (i: number) => unknown }>
> = {
  health: {
    what: 'GET cb_version',
    event: () => albEvent({ path: '/index.pl', query: { action: 'cb_version' } }),
  },
  login: {
    what: 'failed login',
    event: (i) =>
      albEvent({
        method: 'POST',
        path: '/api/v1/login',
        sourceIp: `198.51.100.${(i % 250) + 1}`,
        body: { username: `nobody-${i}`, password: 'not-the-password' },
      }),
  },
  offers: { what: 'GET offers, no session', event: () => albEvent({ path: '/api/v1/offers' }) },
  agent: {
    what: 'agent event, unknown key',
    event: () =>
      albEvent({
        method: 'POST',
        path: '/api/v1/agent/events',
        headers: { authorization: 'Agent not-a-known-key-0123456789' },
        body: { event: 'login', user: 'someone' },
      }),
  },
  'gateway-api': {
    what: 'GET forwards, unsigned',
    event: () => albEvent({ path: '/api/v1/gateway/forwards', query: { gateway: 'gw1' } }),
  },
  admin: {
    what: 'GET cluster, no session',
    event: () => albEvent({ path: '/api/v1/admin/cluster' }),
  },
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const max = (xs: readonly number[]) => Math.max(...xs);

function parseArgs(args: readonly string[]) {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sdk = value('--sdk') ?? 'both';
  return {
    runs: Number(value('--runs') ?? 10),
    handlers: (value('--handlers') ?? Object.keys(FIRST_REQUESTS).join(',')).split(','),
    sdks: (sdk === 'both' ? ['runtime', 'bundled'] : [sdk]) as SdkSource[],
    bundles: value('--bundles'),
    /** NODE_OPTIONS of the functions (as deployed: source-mapped stack traces). */
    nodeOptions: value('--node-options') ?? '--enable-source-maps',
    /** A folder for a CPU profile of each broker's first request (scripts/bench/profile-summary.ts). */
    profile: value('--profile'),
  };
}

interface Measured {
  readonly handler: string;
  readonly sdk: SdkSource;
  readonly clients: readonly string[];
  /** Bytes of the bundle's files that the first request loaded (measured in an untimed run). */
  readonly loadedBytes: number;
  /** Chunks it loaded that bundle-size.ts does not count as loaded by every cold start. */
  readonly beyondColdStart: readonly string[];
  readonly broker: readonly Run[];
  readonly twin: readonly Run[];
  /** The twin that also sends the schema check's Data API statement. */
  readonly callingTwin: readonly Run[];
}

async function main(args: readonly string[]): Promise<void> {
  const options = parseArgs(args);
  const database = await createTestDatabase('deskbroker_coldstart');
  const site = await openSiteDatabase(
    { kind: 'postgres', url: database.url },
    { statementTimeoutMs: 10_000 },
  );
  await migrateToLatest(site.db);
  await site.close();
  const dataApi = await startDataApiServer({ connectionString: database.url });
  const dynamo = await startEmbeddedDynamo();
  const table = createStateTable({
    tableName: 'deskbroker-cold-start',
    region: REGION,
    endpoint: dynamo.endpoint,
  });
  await ensureStateTable(table);
  table.raw.destroy();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    SITE_ID: '1',
    BROKER_NAME: 'cold-start',
    BROKER_CPUS: '2',
    LOG_LEVEL: 'INFO',
    METRICS: 'emf',
    METRICS_NAMESPACE: 'Deskbroker/cold-start',
    NODE_OPTIONS: options.nodeOptions,
    COLD_START_PROFILE: options.profile,
    SITE_DB_CLUSTER_ARN: `arn:aws:rds:${REGION}:123456789012:cluster:deskbroker-site`,
    SITE_DB_SECRET_ARN: `arn:aws:secretsmanager:${REGION}:123456789012:secret:deskbroker-db-AbCdEf`,
    SITE_DB_NAME: database.name,
    RDS_DATA_ENDPOINT: dataApi.endpoint,
    STATE_TABLE: 'deskbroker-cold-start',
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    GATEWAY_SECRET: 'cold-start-gateway-secret-0123456789',
    // A failed login answers no sooner than this floor (against timing attacks): a deliberate
    // wait that would hide the code's own cost, so it is off here.
    LOGIN_FAILURE_FLOOR_MS: '0',
    SECRETS_KEY_ARN: `arn:aws:kms:${REGION}:123456789012:key/00000000-0000-0000-0000-000000000000`,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'ASIACOLDSTART0000000',
    AWS_SECRET_ACCESS_KEY: 'cold-start-secret-key',
    AWS_SESSION_TOKEN: 'cold-start-session-token',
    AWS_LAMBDA_FUNCTION_NAME: 'cold-start',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    TZ: ':UTC',
  };
  const results: Measured[] = [];
  const roots: string[] = [];
  try {
    for (const sdk of options.sdks) {
      const root = lambdaRoot(sdk);
      roots.push(root);
      const plan: {
        handler: string;
        dir: string;
        twin: string;
        callingTwin: string;
        events: string[];
        clients: string[];
        coldStartFiles: Set<string> | undefined;
      }[] = [];
      for (const handler of options.handlers) {
        const first = FIRST_REQUESTS[handler];
        if (!first) throw new Error(`no first request for ${handler}`);
        const dir = path.join(root, handler);
        let coldStartFiles: Set<string> | undefined;
        if (options.bundles) {
          cpSync(path.join(options.bundles, handler), dir, { recursive: true });
        } else {
          const report = await bundleHandler(handler, sdk);
          cpSync(report.dir, dir, { recursive: true });
          coldStartFiles = new Set(report.outputs.filter((o) => o.initial).map((o) => o.file));
          report.remove();
        }
        // The clients the bundle loads for its first request: those its cold start imports
        // statically (read from the runtime-SDK build), and the Data API client (imported when
        // the site database opens).
        const clients = [
          ...new Set([
            ...(await runtimeSdkImports(handler, options.bundles)),
            '@aws-sdk/client-rds-data',
          ]),
        ].sort();
        const twin = path.join(root, `${handler}-twin`);
        await buildTwin(twin, clients, sdk, false);
        const callingTwin = path.join(root, `${handler}-calling-twin`);
        await buildTwin(callingTwin, clients, sdk, true);
        const events = Array.from({ length: options.runs }, (_, i) => {
          const file = path.join(root, `${handler}.event-${i}.json`);
          writeFileSync(file, JSON.stringify(first.event(i)));
          return file;
        });
        plan.push({ handler, dir, twin, callingTwin, events, clients, coldStartFiles });
      }
      const runs = new Map(
        plan.map((p) => [
          p.handler,
          { broker: [] as Run[], twin: [] as Run[], callingTwin: [] as Run[] },
        ]),
      );
      // Interleaved, so load on the machine spreads over both.
      for (let i = 0; i < options.runs; i++) {
        for (const p of plan) {
          runs.get(p.handler)!.broker.push(await runOnce(root, p.dir, p.events[i]!, env));
          runs.get(p.handler)!.twin.push(await runOnce(root, p.twin, p.events[i]!, env));
          runs
            .get(p.handler)!
            .callingTwin.push(await runOnce(root, p.callingTwin, p.events[i]!, env));
        }
      }
      for (const p of plan) {
        const loaded = await loadedFiles(root, p.dir, p.events[0]!, env);
        results.push({
          handler: p.handler,
          sdk,
          clients: p.clients,
          loadedBytes: loaded.reduce((sum, f) => sum + statSync(path.join(p.dir, f)).size, 0),
          beyondColdStart: p.coldStartFiles ? loaded.filter((f) => !p.coldStartFiles!.has(f)) : [],
          ...runs.get(p.handler)!,
        });
      }
    }
  } finally {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
    await dataApi.close();
    await dynamo.close();
    await database.drop();
  }
  report(results, options.runs);
}

function report(results: readonly Measured[], runs: number): void {
  const ms = (x: number) => `${x.toFixed(0)}`.padStart(3);
  for (const sdk of new Set(results.map((r) => r.sdk))) {
    console.log(
      `\nCold start, AWS SDK ${sdk === 'runtime' ? 'from the Lambda runtime (external)' : 'bundled and minified into the chunks (as deployed)'}: fresh Node ${process.versions.node} process, import + first request, ${runs} runs, ms median (max)\n`,
    );
    console.log(
      `${'handler'.padEnd(12)} ${'first request'.padEnd(25)} ${'status'.padEnd(6)} ${'broker'.padStart(11)} ${'twin'.padStart(11)} ${'broker−twin'.padStart(11)} ${'calling twin'.padStart(12)} ${'broker−calling'.padStart(14)}  ${'import: broker'.padStart(14)} ${'twin'.padStart(4)} ${'loaded'.padStart(7)}  twin imports`,
    );
    for (const r of results.filter((x) => x.sdk === sdk)) {
      const total = (xs: readonly Run[]) => xs.map((x) => x.total);
      const load = (xs: readonly Run[]) => xs.map((x) => x.load);
      const cell = (xs: readonly Run[]) => `${ms(median(total(xs)))} (${ms(max(total(xs)))})`;
      const diff = (xs: readonly Run[]) =>
        `+${(median(total(r.broker)) - median(total(xs))).toFixed(0)}`;
      const statuses = [...new Set(r.broker.map((x) => x.status))].join('/');
      console.log(
        `${r.handler.padEnd(12)} ${FIRST_REQUESTS[r.handler]!.what.padEnd(25)} ${statuses.padEnd(6)} ${cell(r.broker).padStart(11)} ${cell(r.twin).padStart(11)} ${diff(r.twin).padStart(11)} ${cell(r.callingTwin).padStart(12)} ${diff(r.callingTwin).padStart(14)}  ${ms(median(load(r.broker))).padStart(14)} ${ms(median(load(r.twin))).padStart(4)} ${`${(r.loadedBytes / 1024).toFixed(0)} KB`.padStart(7)}  ${r.clients.map((c) => c.replace('@aws-sdk/', '')).join(' ')}`,
      );
    }
  }
  console.log(
    [
      '',
      'broker: import + first request, from process start (Node itself included: it cancels out).',
      'twin: imports the same SDK clients, answers at once; broker−twin is what the brief budgets (≤ 50 ms).',
      "calling twin: also sends the schema check's Data API statement, as every first request does;",
      "  broker−calling is the broker's own code without the SDK's first-call work.",
      'loaded: the bundle files the first request loaded (broker code, and the SDK when bundled), measured in an extra, untimed run.',
    ].join('\n'),
  );
  for (const r of results.filter((x) => x.beyondColdStart.length > 0)) {
    console.log(
      `${r.handler} (${r.sdk} SDK) also loaded, past what bundle-size.ts counts for every cold start: ${r.beyondColdStart.join(', ')}`,
    );
  }
  const sdks = [...new Set(results.map((r) => r.sdk))];
  if (sdks.length === 2) {
    console.log('\nRuntime SDK against bundled SDK, broker medians (import + first request, ms)\n');
    for (const handler of new Set(results.map((r) => r.handler))) {
      const of = (sdk: SdkSource) =>
        median(
          results.find((r) => r.handler === handler && r.sdk === sdk)!.broker.map((x) => x.total),
        );
      const runtime = of('runtime');
      const bundled = of('bundled');
      console.log(
        `${handler.padEnd(12)} runtime ${ms(runtime)}  bundled ${ms(bundled)}  bundled − runtime ${(bundled - runtime).toFixed(0).padStart(5)}`,
      );
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
