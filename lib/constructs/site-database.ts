/**
 * The site database: Aurora PostgreSQL Serverless v2 with a writer and a reader in another
 * AZ (the failover replica Aurora promotes when the writer fails), the RDS Data API on (the
 * broker's only way in: no VPC connection, no connection pool), the master secret in Secrets
 * Manager, rotated, deletion protection and backups on. A second one, with role `secondary`,
 * is the guide's "Specifying a Failover Database".
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

/** Something a broker function can be pointed at for its site database. */
export interface ISiteDatabase {
  /** Sets the function's site-database variables and grants it access. */
  bind(fn: lambda.Function): void;
}

export interface SiteDatabaseProps {
  readonly vpc: ec2.IVpc;
  /**
   * `primary` binds SITE_DB_CLUSTER_ARN / SITE_DB_SECRET_ARN / SITE_DB_NAME; `secondary`
   * binds the SECONDARY_DB_* variables of the failover database.
   * @default 'primary'
   */
  readonly role?: 'primary' | 'secondary';
  /** @default 'deskbroker' */
  readonly databaseName?: string;
  /**
   * Minimum capacity in ACUs; 0 lets Aurora pause when idle (the Data API resumes it, with
   * DatabaseResumingException for some seconds).
   * @default 0.5
   */
  readonly minCapacity?: number;
  /** @default 4 */
  readonly maxCapacity?: number;
  /**
   * A reader in another AZ, in promotion tier 1 so it scales with the writer and can take
   * over at full size.
   * @default true
   */
  readonly reader?: boolean;
  /** @default Duration.days(7) */
  readonly backupRetention?: Duration;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** Retention of the PostgreSQL log export. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default Duration.days(30) */
  readonly secretRotation?: Duration;
}

/** An Aurora PostgreSQL Serverless v2 cluster for the site database. */
export class SiteDatabase extends Construct implements ISiteDatabase {
  public readonly cluster: rds.DatabaseCluster;
  public readonly databaseName: string;
  public readonly role: 'primary' | 'secondary';

  constructor(scope: Construct, id: string, props: SiteDatabaseProps) {
    super(scope, id);
    this.role = props.role ?? 'primary';
    this.databaseName = props.databaseName ?? 'deskbroker';
    const min = props.minCapacity ?? 0.5;
    const max = props.maxCapacity ?? 4;
    if (min > max) {
      throw new Error(`SiteDatabase: minCapacity (${min}) is above maxCapacity (${max})`);
    }
    const withReader = props.reader ?? true;
    const azs = props.vpc.availabilityZones;
    if (withReader && azs.length < 2) {
      throw new Error('SiteDatabase: a reader in another AZ needs a VPC with at least two AZs');
    }

    // Named, so its log group can be created first with a retention (without a Lambda-backed
    // LogRetention resource). A named cluster is never replaced by an update, as it should be.
    const clusterIdentifier = `${Stack.of(this).stackName}-${id}`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 63);
    const logGroup = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_16_9,
      }),
      credentials: rds.Credentials.fromGeneratedSecret('deskbroker_admin'),
      defaultDatabaseName: this.databaseName,
      writer: rds.ClusterInstance.serverlessV2('Writer', {
        availabilityZone: azs[0],
        autoMinorVersionUpgrade: true,
      }),
      readers: withReader
        ? [
            rds.ClusterInstance.serverlessV2('Reader', {
              availabilityZone: azs[1],
              scaleWithWriter: true,
              autoMinorVersionUpgrade: true,
            }),
          ]
        : [],
      serverlessV2MinCapacity: min,
      serverlessV2MaxCapacity: max,
      enableDataApi: true,
      iamAuthentication: true,
      storageEncrypted: true,
      deletionProtection: props.deletionProtection ?? true,
      backup: { retention: props.backupRetention ?? Duration.days(7) },
      removalPolicy: RemovalPolicy.SNAPSHOT,
      vpc: props.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      cloudwatchLogsExports: ['postgresql'],
    });
    this.cluster.node.addDependency(logGroup);
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The broker reaches the database only through the RDS Data API; nothing connects to the port, and the security group admits only the secret-rotation function.',
    });

    // The rotation function runs in the private subnets: it must reach both the database
    // and the Secrets Manager API (through the NAT gateway).
    this.cluster.addRotationSingleUser({
      automaticallyAfter: props.secretRotation ?? Duration.days(30),
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
    });
  }

  /** The Secrets Manager secret of the master user (what the Data API signs in with). */
  public get secret() {
    return this.cluster.secret!;
  }

  /** Sets SITE_DB_* (or SECONDARY_DB_*) on `fn` and grants it the Data API on this cluster. */
  public bind(fn: lambda.Function): void {
    const prefix = this.role === 'primary' ? 'SITE_DB' : 'SECONDARY_DB';
    fn.addEnvironment(`${prefix}_CLUSTER_ARN`, this.cluster.clusterArn);
    fn.addEnvironment(`${prefix}_SECRET_ARN`, this.secret.secretArn);
    fn.addEnvironment(`${prefix}_NAME`, this.databaseName);
    this.cluster.grantDataApiAccess(fn);
  }
}

export interface ExternalSiteDatabaseProps {
  /** A postgres:// URL the functions can reach. */
  readonly url: string;
}

/**
 * A site database outside the stack, by URL: LocalStack's free edition has no Aurora, so
 * its deployment points the functions at a PostgreSQL server (SITE_DB_URL). Never on AWS:
 * the URL, password included, would sit in the functions' configuration.
 */
export class ExternalSiteDatabase extends Construct implements ISiteDatabase {
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ExternalSiteDatabaseProps) {
    super(scope, id);
    if (!/^postgres(ql)?:\/\//.test(props.url)) {
      throw new Error('ExternalSiteDatabase: url must start with postgres://');
    }
    this.url = props.url;
  }

  /** Sets SITE_DB_URL on `fn`. */
  public bind(fn: lambda.Function): void {
    fn.addEnvironment('SITE_DB_URL', this.url);
  }
}
