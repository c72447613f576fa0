/**
 * The deploy-time schema migration: a CloudFormation custom resource (CDK Provider
 * framework) whose handler is functions/handlers/migrate.ts. It runs on create and whenever
 * the broker version or a migration file changes, and the broker functions wait for it, so
 * the schema is this version's before the new code takes traffic.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type CfnElement, CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import pkg from '../../package.json' with { type: 'json' };
import { REPO_ROOT } from '../bundling.ts';

const SITE_DB_DIR = path.join(REPO_ROOT, 'functions', 'adapters', 'site-db');

/** A hash of the migration code: migrate.ts and every file in migrations/. */
export function migrationsHash(): string {
  const hash = createHash('sha256');
  const files = [
    path.join(SITE_DB_DIR, 'migrate.ts'),
    ...readdirSync(path.join(SITE_DB_DIR, 'migrations'))
      .sort()
      .map((f) => path.join(SITE_DB_DIR, 'migrations', f)),
  ];
  for (const file of files) {
    hash.update(path.relative(REPO_ROOT, file)).update('\0').update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

export interface MigrationProps {
  /** The function of functions/handlers/migrate.ts. */
  readonly migrateFunction: lambda.IFunction;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** The schema migration custom resource. */
export class Migration extends Construct {
  public readonly provider: cr.Provider;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationProps) {
    super(scope, id);
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.migrateFunction,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.resource = new CustomResource(this, 'Schema', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::DeskbrokerSchema',
      properties: { BrokerVersion: pkg.version, Migrations: migrationsHash() },
    });
    const framework =
      'the CDK Provider framework function (custom-resources), which only relays CloudFormation events to the migration function';
    for (const [rule, reason] of [
      ['AwsSolutions-L1', `The runtime of ${framework} is chosen by CDK.`],
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `The basic execution role of ${framework}: writing its own logs.`,
      ],
      [
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.migrateFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
        `${framework} may invoke any version of the migration function.`,
      ],
    ] as const) {
      Validations.of(this.provider).acknowledge({ id: rule, reason });
    }
  }

  /** Makes `construct` (every resource in it) wait for the migration. */
  public before(construct: IConstruct): void {
    construct.node.addDependency(this.resource);
  }
}
