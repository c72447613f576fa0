/**
 * The stateful stack: what holds data and outlives deployments of the code. The network,
 * the site database (and its optional failover twin), the state table, the job queue and
 * its DLQ, the broker's secrets and the KMS key that seals stored secrets. Deleting the
 * stateless stack leaves all of it in place.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';
import { BrokerSecrets } from './constructs/broker-secrets.ts';
import { JobQueue } from './constructs/job-queue.ts';
import { Network } from './constructs/network.ts';
import { SecretsKey } from './constructs/secrets-key.ts';
import {
  ExternalSiteDatabase,
  type ISiteDatabase,
  SiteDatabase,
} from './constructs/site-database.ts';
import { StateTable } from './constructs/state-table.ts';

export interface StatefulStackProps extends StackProps {
  readonly config: DeployConfig;
}

export class StatefulStack extends Stack {
  /** Undefined in LocalStack mode (no VPC there). */
  public readonly network?: Network;
  public readonly siteDatabase: ISiteDatabase;
  public readonly secondaryDatabase?: SiteDatabase;
  public readonly stateTable: StateTable;
  public readonly jobQueue: JobQueue;
  public readonly secrets: BrokerSecrets;
  /** The KMS key that seals stored secrets (LDAP bind passwords, TOTP secrets). */
  public readonly secretsKey: SecretsKey;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    if (config.localstack) {
      this.siteDatabase = new ExternalSiteDatabase(this, 'SiteDatabase', {
        url: config.siteDbUrl!,
      });
    } else {
      this.network = new Network(this, 'Network', {
        vpcId: config.vpcId,
        natGateways: config.natGateways,
        flowLogRetention: logRetention,
      });
      const database = {
        vpc: this.network.vpc,
        minCapacity: config.dbMinCapacity,
        maxCapacity: config.dbMaxCapacity,
        logRetention,
      };
      this.siteDatabase = new SiteDatabase(this, 'SiteDatabase', database);
      if (config.secondaryDatabase) {
        this.secondaryDatabase = new SiteDatabase(this, 'SecondaryDatabase', {
          ...database,
          role: 'secondary',
          reader: false,
        });
      }
    }
    this.stateTable = new StateTable(this, 'StateTable');
    this.jobQueue = new JobQueue(this, 'JobQueue');
    this.secrets = new BrokerSecrets(this, 'Secrets');
    this.secretsKey = new SecretsKey(this, 'SecretsKey');

    new CfnOutput(this, 'StateTableName', { value: this.stateTable.table.tableName });
    new CfnOutput(this, 'JobQueueUrl', { value: this.jobQueue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.jobQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AdminPasswordSecretArn', {
      value: this.secrets.adminPassword.secretArn,
      description: 'The first password of the built-in admin account',
    });
  }
}
