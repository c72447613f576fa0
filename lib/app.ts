/**
 * The CDK app entry (cdk.json: `node lib/app.ts`): reads the context values and builds the
 * stacks. docs/deploy.md lists the context values.
 */
import { App } from 'aws-cdk-lib';
import { readDeployConfig } from './config.ts';
import { buildDeskbroker } from './deskbroker.ts';

const app = new App();
buildDeskbroker(
  app,
  readDeployConfig((key) => app.node.tryGetContext(key)),
  { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
);
app.synth();
