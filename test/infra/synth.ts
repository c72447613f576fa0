/**
 * Synthesizes the deskbroker app for the infra tests: the context of cdk.json with the
 * test's overrides, bundling skipped (the templates do not depend on the bundles' contents;
 * bundles.test.ts checks those), into a temporary folder. app.synth() runs the cdk-nag
 * AwsSolutions checks, so every synthesis here is also a nag check: it throws on findings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { type DeployConfig, readDeployConfig } from '../../lib/config.ts';
import { buildDeskbroker, type DeskbrokerStacks } from '../../lib/deskbroker.ts';

export interface Synthesized extends DeskbrokerStacks {
  readonly app: App;
  readonly config: DeployConfig;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
  /** The raw templates, for snapshots. */
  readonly raw: { readonly stateful: unknown; readonly stateless: unknown };
  /** Removes the output folder. */
  cleanup(): void;
}

/** The context of cdk.json merged with `overrides`. */
export function testContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...overrides };
}

/** Builds and synthesizes the app once. @throws on cdk-nag findings or invalid context. */
export function synthDeskbroker(
  overrides: Record<string, unknown> = {},
  env: Environment = { region: 'eu-west-1' },
): Synthesized {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-cdk-'));
  const app = new App({ context: testContext(overrides), outdir });
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  const stacks = buildDeskbroker(app, config, env);
  const assembly = app.synth();
  const stateful = assembly.getStackByName(stacks.stateful.stackName).template;
  const stateless = assembly.getStackByName(stacks.stateless.stackName).template;
  return {
    ...stacks,
    app,
    config,
    statefulTemplate: Template.fromJSON(stateful),
    statelessTemplate: Template.fromJSON(stateless),
    raw: { stateful, stateless },
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
