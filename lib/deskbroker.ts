/**
 * The deskbroker CDK app: the stateful and the stateless stack, and the cdk-nag
 * AwsSolutions checks over both. lib/app.ts runs it for the CDK CLI; the infra tests call it
 * with their own context.
 */
import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type DeployConfig, DeployConfigError } from './config.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface DeskbrokerStacks {
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Adds both stacks to `app` and the AwsSolutions checks.
 * @param env the stacks' account and region; needed (only) to import a VPC by ID.
 * @throws {DeployConfigError} when `vpcId` is set without an account and region.
 */
export function buildDeskbroker(
  app: App,
  config: DeployConfig,
  env: Environment = {},
): DeskbrokerStacks {
  if (config.vpcId && !(env.account && (config.region ?? env.region))) {
    throw new DeployConfigError(
      'context value vpcId: importing a VPC needs the account and region (AWS credentials at synth, or CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION with a cdk.context.json holding the lookup)',
    );
  }
  // The account stays unresolved unless a VPC lookup needs it: synth then works offline
  // (no availability-zone lookups). A known region pins the deployment's region and lets
  // the load balancer write access logs.
  const region = config.region ?? env.region;
  const stackEnv = config.vpcId
    ? { account: env.account, region }
    : region
      ? { region }
      : undefined;
  const stateful = new StatefulStack(app, `${config.stackPrefix}-Stateful`, {
    env: stackEnv,
    config,
    description: 'deskbroker: site database, state table, job queue, secrets, network',
    terminationProtection: !config.localstack,
  });
  const stateless = new StatelessStack(app, `${config.stackPrefix}-Stateless`, {
    env: stackEnv,
    config,
    stateful,
    description: 'deskbroker: broker functions, load balancer, gateways, schedules, alarms',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stateful, stateless };
}
