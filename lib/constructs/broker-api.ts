/**
 * The broker's front door: an internet-facing Application Load Balancer whose listener
 * routes by path to one Lambda target group per HTTP handler, as HTTP_FUNCTIONS says (the
 * same table the local runtime dispatches with). Target groups run in multi-value headers
 * mode (the handlers read `multiValueHeaders` and answer in kind). Only the health target
 * group has health checks: ALB sends them to the group's own function, and the guide's
 * `is_alive` is the health function's. Lambda target groups cannot be sticky (FACTS.md).
 *
 * The load balancer also carries the gateways' HTTP face (GatewayService), browsers'
 * WebSockets for HTML5 display among it: its idle timeout applies to those too (see
 * {@link BrokerApiProps.idleTimeout}).
 */
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { LambdaTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { KEEPALIVE_MS } from '../../functions/core/gateways/html5-ticket.ts';
import { HTTP_FUNCTIONS } from '../../functions/handlers/routes.ts';
import type { HttpFunctionName } from './broker-functions.ts';

/** The guide's health query for load balancers. */
export const HEALTH_CHECK_PATH = '/index.pl?action=is_alive';

export interface BrokerApiProps {
  readonly vpc: ec2.IVpc;
  /** The HTTP functions by handler name; every name of HTTP_FUNCTIONS must be there. */
  readonly functions: Readonly<Record<HttpFunctionName, lambda.IFunction>>;
  /**
   * The HTTPS listener's certificate. Without one the listener is plain HTTP on port 80,
   * for tests only (session cookies are `Secure`: browsers will not send them back).
   * @default - plain HTTP
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Seconds between health checks of the health function; each one invokes it, and it
   * queries the database.
   * @default Duration.seconds(35)
   */
  readonly healthCheckInterval?: Duration;
  /** @default Duration.seconds(30) */
  readonly healthCheckTimeout?: Duration;
  /**
   * Access logs in an S3 bucket of this construct. Needs the stack's region (the bucket
   * policy names the region's load-balancing account).
   * @default - true when the stack's region is known, else false
   */
  readonly accessLogs?: boolean;
  /**
   * The load balancer's idle timeout, for every connection through it: HTML5 desktop
   * WebSockets to the gateways among them. The gateway pings each browser every 30 s
   * (KEEPALIVE_MS), so a desktop session is never idle for that long however long it sits
   * untouched; this limit only ends connections whose gateway died without closing them,
   * and the browser then says so within that time. At least 4 pings long.
   * @default Duration.seconds(120)
   */
  readonly idleTimeout?: Duration;
}

/** The Application Load Balancer and its Lambda target groups. */
export class BrokerApi extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroups: Readonly<Record<HttpFunctionName, elbv2.ApplicationTargetGroup>>;
  /** The target group of the health function, the one with `is_alive` health checks. */
  public readonly healthTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly accessLogBucket?: s3.Bucket;
  public readonly protocol: 'http' | 'https';

  constructor(scope: Construct, id: string, props: BrokerApiProps) {
    super(scope, id);
    const interval = props.healthCheckInterval ?? Duration.seconds(35);
    const timeout = props.healthCheckTimeout ?? Duration.seconds(30);
    if (timeout.toSeconds() >= interval.toSeconds()) {
      throw new Error(
        `BrokerApi: healthCheckTimeout (${timeout.toSeconds()} s) must be shorter than healthCheckInterval (${interval.toSeconds()} s)`,
      );
    }
    for (const route of HTTP_FUNCTIONS) {
      if (!props.functions[route.name]) {
        throw new Error(`BrokerApi: no function for "${route.name}" (routes.ts HTTP_FUNCTIONS)`);
      }
      if (route.paths.length > 5) {
        throw new Error(`BrokerApi: "${route.name}" has more than 5 paths (one ALB rule's limit)`);
      }
    }

    const idleTimeout = props.idleTimeout ?? Duration.seconds(120);
    const idleSeconds = idleTimeout.toSeconds();
    if (idleSeconds < (4 * KEEPALIVE_MS) / 1000 || idleSeconds > 4000) {
      throw new Error(
        `BrokerApi: idleTimeout (${idleSeconds} s) must be between ${(4 * KEEPALIVE_MS) / 1000} s (4 gateway keep-alive pings) and 4000 s (the load balancer's limit)`,
      );
    }

    this.protocol = props.certificate ? 'https' : 'http';
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      dropInvalidHeaderFields: true,
      idleTimeout,
    });
    const regionKnown = !Token.isUnresolved(Stack.of(this).region);
    const accessLogs = props.accessLogs ?? regionKnown;
    if (accessLogs && !regionKnown) {
      throw new Error('BrokerApi: accessLogs needs a stack with a region (context value region)');
    }
    if (!accessLogs) {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason:
          'Synthesized without a region (context value region empty and no CDK_DEFAULT_REGION): the access-log bucket policy needs the region. Set region to get access logs.',
      });
    }
    if (accessLogs) {
      this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        lifecycleRules: [{ expiration: Duration.days(90) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(this.accessLogBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'This bucket holds the load balancer access logs; logging access to the log bucket itself would only log the log writer.',
      });
      this.loadBalancer.logAccessLogs(this.accessLogBucket, 'alb');
    }

    this.listener = props.certificate
      ? this.loadBalancer.addListener('Https', {
          port: 443,
          protocol: elbv2.ApplicationProtocol.HTTPS,
          certificates: [props.certificate],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          open: true,
          defaultAction: notFound(),
        })
      : this.loadBalancer.addListener('Http', {
          port: 80,
          protocol: elbv2.ApplicationProtocol.HTTP,
          open: true,
          defaultAction: notFound(),
        });
    if (props.certificate) {
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    }
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The broker serves end users, thin clients and desktop agents on the internet: its listeners are open to all addresses by design.',
    });

    const groups = {} as Record<HttpFunctionName, elbv2.ApplicationTargetGroup>;
    HTTP_FUNCTIONS.forEach((route, index) => {
      const isHealth = route.name === 'health';
      const group = new elbv2.ApplicationTargetGroup(this, `${pascal(route.name)}Target`, {
        targetType: elbv2.TargetType.LAMBDA,
        targets: [new LambdaTarget(props.functions[route.name])],
        multiValueHeadersEnabled: true,
        healthCheck: isHealth
          ? {
              enabled: true,
              path: HEALTH_CHECK_PATH,
              interval,
              timeout,
              healthyThresholdCount: 2,
              unhealthyThresholdCount: 2,
              healthyHttpCodes: '200',
            }
          : { enabled: false },
      });
      this.listener.addTargetGroups(pascal(route.name), {
        priority: (index + 1) * 10,
        conditions: [elbv2.ListenerCondition.pathPatterns([...route.paths])],
        targetGroups: [group],
      });
      groups[route.name] = group;
    });
    this.targetGroups = groups;
    this.healthTargetGroup = groups.health;
  }

  /** The broker's base URL on the load balancer's own DNS name. */
  public get url(): string {
    return `${this.protocol}://${this.loadBalancer.loadBalancerDnsName}`;
  }
}

function notFound(): elbv2.ListenerAction {
  return elbv2.ListenerAction.fixedResponse(404, {
    contentType: 'application/json',
    messageBody: JSON.stringify({ error: 'not_found', message: 'there is no such endpoint' }),
  });
}

const pascal = (name: string) =>
  name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
