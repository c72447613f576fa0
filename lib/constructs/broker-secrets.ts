/**
 * The broker's own secrets in Secrets Manager: the gateway secret (shared by the broker
 * functions and every gateway task: it signs control calls and login tags) and the initial
 * password of the built-in `admin` account.
 *
 * The broker reads its configuration from environment variables only (functions/config.ts),
 * so a function receives a secret as a CloudFormation dynamic reference, resolved at deploy
 * time into its (KMS-encrypted) environment. The gateway tasks get it through ECS secrets.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface BrokerSecretsProps {
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The gateway secret and the admin password. */
export class BrokerSecrets extends Construct {
  public readonly gatewaySecret: secretsmanager.Secret;
  public readonly adminPassword: secretsmanager.Secret;
  /** What CloudFront sends in its origin header (CDN_ORIGIN_SECRET; see lib/constructs/portal.ts). */
  public readonly cdnOriginSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: BrokerSecretsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.gatewaySecret = new secretsmanager.Secret(this, 'GatewaySecret', {
      description: 'deskbroker: shared by the broker and its gateways (GATEWAY_SECRET)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    Validations.of(this.gatewaySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A shared HMAC key held by running gateways and broker functions at once: an automatic rotation would split them. Rotate by putting a new value and redeploying both stacks (docs/deploy.md).',
    });
    this.adminPassword = new secretsmanager.Secret(this, 'AdminPassword', {
      description: 'deskbroker: first password of the built-in admin account',
      generateSecretString: { passwordLength: 24, excludePunctuation: true },
      removalPolicy,
    });
    this.cdnOriginSecret = new secretsmanager.Secret(this, 'CdnOriginSecret', {
      description:
        'deskbroker: the header value CloudFront adds to requests for the broker (CDN_ORIGIN_SECRET)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    Validations.of(this.cdnOriginSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'CloudFront holds this value in its origin configuration, set at deploy time; rotate by putting a new value and redeploying the stateless stack (docs/deploy.md).',
    });
    Validations.of(this.adminPassword).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Read once, when the deploy-time migration creates the built-in admin account; the administrator changes that password in the broker, so rotating this copy would change nothing.',
    });
  }

  /**
   * Sets CDN_ORIGIN_SECRET_ARN on `fn` and grants read access: the HTTP functions trust the
   * client address CloudFront saw only on requests that carry this value.
   */
  public bindCdnOriginSecret(fn: lambda.Function): void {
    fn.addEnvironment('CDN_ORIGIN_SECRET_ARN', this.cdnOriginSecret.secretArn);
    this.cdnOriginSecret.grantRead(fn);
  }

  /**
   * Sets GATEWAY_SECRET_ARN on `fn` and grants it read access: the function reads the value at
   * cold start, so it never shows in the function's configuration.
   */
  public bindGatewaySecret(fn: lambda.Function): void {
    fn.addEnvironment('GATEWAY_SECRET_ARN', this.gatewaySecret.secretArn);
    this.gatewaySecret.grantRead(fn);
  }

  /** Sets DESKBROKER_ADMIN_PASSWORD_ARN on `fn` (the migration function only) and grants read access. */
  public bindAdminPassword(fn: lambda.Function): void {
    fn.addEnvironment('DESKBROKER_ADMIN_PASSWORD_ARN', this.adminPassword.secretArn);
    this.adminPassword.grantRead(fn);
  }
}
