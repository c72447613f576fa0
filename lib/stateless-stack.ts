/**
 * The stateless stack: code and the paths to it. The broker functions, the deploy-time
 * migration, the load balancer, the gateway service, the schedules and the alarms. It can
 * be destroyed and redeployed without losing data; it reads the stateful stack's resources
 * through the constructs' bind helpers.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { sqsMaxConcurrency } from '../functions/core/jobs/limits.ts';
import { type DeployConfig, GATEWAY_HTTP_PORT } from './config.ts';
import { Alarms } from './constructs/alarms.ts';
import { BrokerApi } from './constructs/broker-api.ts';
import {
  BrokerFunctions,
  bindBrokerSettings,
  metricsNamespace,
} from './constructs/broker-functions.ts';
import { Dashboard } from './constructs/dashboard.ts';
import { GatewayService } from './constructs/gateway-service.ts';
import { Migration } from './constructs/migration.ts';
import { Portal } from './constructs/portal.ts';
import { Schedules } from './constructs/schedules.ts';
import { SiteDatabase } from './constructs/site-database.ts';
import type { StatefulStack } from './stateful-stack.ts';

/** The feature flag (read from the consuming stack) that picks the cross-stack reference kind. */
const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

export interface StatelessStackProps extends StackProps {
  readonly config: DeployConfig;
  readonly stateful: StatefulStack;
}

export class StatelessStack extends Stack {
  public readonly functions: BrokerFunctions;
  public readonly migration: Migration;
  /** Undefined in LocalStack mode (no load balancer in its free edition). */
  public readonly api?: BrokerApi;
  /** Undefined in LocalStack mode (no ECS in its free edition). */
  public readonly gateway?: GatewayService;
  /** The pages behind CloudFront; undefined in LocalStack mode (no load balancer to front). */
  public readonly portal?: Portal;
  public readonly schedules: Schedules;
  public readonly alarms: Alarms;
  public readonly dashboard: Dashboard;
  /** The broker's base URL (undefined in LocalStack mode). */
  public readonly brokerUrl?: string;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    if (config.localstack) {
      // Classic exports and imports: LocalStack's CloudFormation is not known to resolve
      // Fn::GetStackOutput, which the recommended "weak" references use.
      this.node.setContext(CROSS_STACK_REFERENCES, 'strong');
    }
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const vpc = stateful.network?.vpc;

    const functions = new BrokerFunctions(this, 'Functions', {
      vpc,
      jobFunctionTimeout: stateful.jobQueue.jobFunctionTimeout,
      logRetention,
    });
    this.functions = functions;
    const namespace = metricsNamespace(this.stackName);
    const settings = {
      siteId: config.siteId,
      brokerCpus: config.brokerCpus,
      brokerName: `${config.stackPrefix.toLowerCase()}-${config.siteId}`,
      metricsNamespace: namespace,
    };
    this.schedules = new Schedules(this, 'Schedules', {
      queue: stateful.jobQueue.queue,
      siteId: config.siteId,
    });
    for (const fn of functions.all) {
      bindBrokerSettings(fn, settings);
      // The heartbeat period the cluster status judges by is the schedule's: one source.
      this.schedules.bindHeartbeat(fn);
      stateful.siteDatabase.bind(fn);
      stateful.secondaryDatabase?.bind(fn);
      stateful.stateTable.bind(fn);
      if (fn !== functions.jobs) stateful.jobQueue.bindProducer(fn);
      // Health answers from the database and directory alone; the migration signs nothing.
      if (fn !== functions.http.health && fn !== functions.migrate) {
        stateful.secrets.bindGatewaySecret(fn);
      }
    }
    stateful.secrets.bindAdminPassword(functions.migrate);
    // Stored secrets: sealed by apply, re-encryption and the deploy-time migration; opened to
    // bind to LDAP (login, the health probe) and to check TOTP codes (login).
    for (const fn of [functions.http.admin, functions.migrate]) {
      stateful.secretsKey.bindSecretsKey(fn, 'seal');
    }
    for (const fn of [functions.http.login, functions.http.health]) {
      stateful.secretsKey.bindSecretsKey(fn, 'open');
    }
    stateful.jobQueue.bindConsumer(functions.jobs, {
      maxConcurrency: sqsMaxConcurrency(config.brokerCpus),
    });

    this.migration = new Migration(this, 'Migration', {
      migrateFunction: functions.migrate,
      logRetention,
    });
    for (const fn of functions.all) if (fn !== functions.migrate) this.migration.before(fn);

    if (vpc) {
      const certificate = config.certificateArn
        ? acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn)
        : undefined;
      this.api = new BrokerApi(this, 'Api', { vpc, functions: functions.http, certificate });
      this.brokerUrl = config.domainName
        ? `${this.api.protocol}://${config.domainName}`
        : this.api.url;
      this.gateway = new GatewayService(this, 'Gateway', {
        vpc,
        loadBalancer: this.api.loadBalancer,
        certificate,
        gatewaySecret: stateful.secrets.gatewaySecret,
        brokerUrl: this.brokerUrl,
        desiredCount: config.gatewayDesiredCount,
        maxCount: config.gatewayMaxCount,
        portRange: config.gatewayPortRange,
        clientCidr: config.gatewayClientCidr,
        logRetention,
      });
      for (const fn of functions.all) {
        if (fn !== functions.http.health && fn !== functions.migrate) this.gateway.bindControl(fn);
      }
      for (const fn of Object.values(functions.http)) stateful.secrets.bindCdnOriginSecret(fn);
      this.portal = new Portal(this, 'Portal', {
        api:
          config.certificateArn && config.domainName
            ? { domainName: config.domainName, protocol: 'https' }
            : { domainName: this.api.loadBalancer.loadBalancerDnsName, protocol: 'http' },
        originSecret: stateful.secrets.cdnOriginSecret,
        customDomain:
          config.portalDomainName && config.portalCertificateArn
            ? {
                domainName: config.portalDomainName,
                certificate: acm.Certificate.fromCertificateArn(
                  this,
                  'PortalCertificate',
                  config.portalCertificateArn,
                ),
              }
            : undefined,
        accessLogBucket: this.api.accessLogBucket,
      });
      new CfnOutput(this, 'PortalUrl', { value: this.portal.url });
      new CfnOutput(this, 'BrokerUrl', { value: this.brokerUrl });
      new CfnOutput(this, 'LoadBalancerDnsName', {
        value: this.api.loadBalancer.loadBalancerDnsName,
      });
      // The gateways' HTTP face on the load balancer: the `webUrl` of the gateway cluster
      // (mode "all") in the site configuration, for desktops in the browser.
      new CfnOutput(this, 'GatewayWebUrl', { value: `${this.brokerUrl}:${GATEWAY_HTTP_PORT}` });
    }

    const siteDatabase =
      stateful.siteDatabase instanceof SiteDatabase ? stateful.siteDatabase.cluster : undefined;
    const gatewayTargetGroup =
      this.gateway && config.gatewayDesiredCount > 0 ? this.gateway.targetGroup : undefined;
    this.alarms = new Alarms(this, 'Alarms', {
      queue: stateful.jobQueue.queue,
      deadLetterQueue: stateful.jobQueue.deadLetterQueue,
      loadBalancer: this.api?.loadBalancer,
      healthTargetGroup: this.api?.healthTargetGroup,
      gatewayTargetGroup,
      siteDatabase,
      metricsNamespace: namespace,
      email: config.alarmEmail,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      metricsNamespace: namespace,
      queue: stateful.jobQueue.queue,
      deadLetterQueue: stateful.jobQueue.deadLetterQueue,
      loadBalancer: this.api?.loadBalancer,
      healthTargetGroup: this.api?.healthTargetGroup,
      gatewayTargetGroup: this.gateway?.targetGroup,
      gatewayActiveSessions: this.gateway?.activeSessionsMetric,
      siteDatabase,
      alarms: this.alarms.all,
      dashboardName: `${this.stackName}-dashboard`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });

    for (const [name, fn] of Object.entries(functions.http)) {
      new CfnOutput(this, `${name.replace('-', '')}FunctionName`, { value: fn.functionName });
    }
    new CfnOutput(this, 'jobsFunctionName', { value: functions.jobs.functionName });
    new CfnOutput(this, 'migrateFunctionName', { value: functions.migrate.functionName });
  }
}
