/**
 * Secrets from AWS Secrets Manager, read once at start-up: on Lambda the functions get the
 * ARNs (GATEWAY_SECRET_ARN, DESKBROKER_ADMIN_PASSWORD_ARN), never the values, so the secrets
 * do not show in the function configuration. A value given directly wins over its ARN.
 * (CDN_ORIGIN_SECRET_ARN likewise: the header value CloudFront adds, see config.ts.)
 */
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';

/** Fetches one secret's string value. */
export type SecretFetcher = (arn: string) => Promise<string>;

/** The real fetcher (the SDK is provided by the Lambda runtime). */
export function secretsManagerFetcher(region: string): SecretFetcher {
  return async (arn) => {
    const { GetSecretValueCommand, SecretsManagerClient } = await import(
      '@aws-sdk/client-secrets-manager'
    );
    const client = new SecretsManagerClient({ region });
    try {
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (!SecretString) throw new ConfigError(`secret ${arn} has no string value`);
      return SecretString;
    } finally {
      client.destroy();
    }
  };
}

/**
 * Returns the configuration with the secrets behind its ARNs filled in.
 * @throws {ConfigError} naming the variable whose secret could not be read.
 */
export async function resolveSecretArns(config: Config, fetch?: SecretFetcher): Promise<Config> {
  const arns = config.secretArns;
  const get = fetch ?? secretsManagerFetcher(config.region);
  const read = async (variable: string, arn: string | undefined, given: string | undefined) => {
    if (given !== undefined || arn === undefined) return given;
    try {
      return await get(arn);
    } catch (e: unknown) {
      throw new ConfigError(
        `environment variable ${variable}: cannot read the secret (${(e as Error).message})`,
      );
    }
  };
  const [gatewaySecret, adminPassword, cdnOriginSecret] = await Promise.all([
    read('GATEWAY_SECRET_ARN', arns.gatewaySecret, config.gatewaySecret),
    read('DESKBROKER_ADMIN_PASSWORD_ARN', arns.adminPassword, config.adminPassword),
    read('CDN_ORIGIN_SECRET_ARN', arns.cdnOriginSecret, config.cdnOriginSecret),
  ]);
  if (gatewaySecret !== undefined && gatewaySecret.length < 16) {
    throw new ConfigError(
      'environment variable GATEWAY_SECRET_ARN: the secret must be at least 16 characters',
    );
  }
  return { ...config, gatewaySecret, adminPassword, cdnOriginSecret };
}
