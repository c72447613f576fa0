/**
 * The CDK app entry (cdk.json: `node lib/app.ts`): reads the context values and builds the
 * stacks. docs/deploy.md lists the context values.
 */
import { App } from 'aws-cdk-lib';
import { buildWeb, webIsStale } from '../scripts/build-web.ts';
import { readDeployConfig } from './config.ts';
import { buildDeskbroker } from './deskbroker.ts';

// The pages go to S3 from web/dist/: build them when their sources changed.
if (webIsStale()) await buildWeb();

const app = new App();
buildDeskbroker(
  app,
  readDeployConfig((key) => app.node.tryGetContext(key)),
  { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
);
app.synth();
