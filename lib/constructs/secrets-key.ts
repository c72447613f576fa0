/**
 * The master key of the broker's stored secrets (LDAP bind passwords and TOTP secrets in the
 * site database and in the leased-mode copy in the state table): a customer-managed KMS key
 * with yearly automatic rotation. The broker wraps one data key per minute of sealing under it
 * (functions/adapters/encryption/): KMS keeps every version of the key material, so values
 * sealed before a rotation still open, and `POST /api/v1/admin/secrets/reencrypt` re-seals
 * them all with fresh data keys.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SecretsKeyProps {
  /**
   * What happens to the key when the stack is deleted. Without the key no stored secret opens
   * again, so it outlives the stack unless told otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How often KMS rotates the key material (90 to 2560 days).
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;
}

/** The KMS key that seals stored secrets. */
export class SecretsKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SecretsKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'deskbroker: master key of stored secrets (LDAP bind passwords, TOTP secrets)',
      enableKeyRotation: true,
      rotationPeriod: props.rotationPeriod ?? Duration.days(365),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }

  /**
   * Sets SECRETS_KEY_ARN on `fn` and grants what it does with stored secrets: `open` (the
   * functions that bind to LDAP or check TOTP codes) may only decrypt data keys; `seal` (apply,
   * re-encryption, the deploy-time sealing of old clear values) may also generate them.
   */
  public bindSecretsKey(fn: lambda.Function, use: 'open' | 'seal'): void {
    fn.addEnvironment('SECRETS_KEY_ARN', this.key.keyArn);
    if (use === 'seal') this.key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    else this.key.grantDecrypt(fn);
  }
}
