import { describe, expect, it } from 'vitest';
import { resolveSecretArns } from '../../functions/adapters/secrets.ts';
import { ConfigError, loadConfig } from '../../functions/config.ts';

const GW_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:gw';
const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:admin';

describe('secrets from ARNs', () => {
  it('reads each secret behind its ARN once, at start-up', async () => {
    const asked: string[] = [];
    const config = await resolveSecretArns(
      loadConfig({ GATEWAY_SECRET_ARN: GW_ARN, DESKBROKER_ADMIN_PASSWORD_ARN: ADMIN_ARN }),
      async (arn) => {
        asked.push(arn);
        return arn === GW_ARN ? 'gateway-secret-from-the-manager' : 'admin-password';
      },
    );
    expect(config.gatewaySecret).toBe('gateway-secret-from-the-manager');
    expect(config.adminPassword).toBe('admin-password');
    expect(asked.sort()).toEqual([ADMIN_ARN, GW_ARN]);
  });

  it('keeps a value given directly and asks for nothing without ARNs', async () => {
    const config = await resolveSecretArns(
      loadConfig({ GATEWAY_SECRET: 'a-direct-secret-value', GATEWAY_SECRET_ARN: GW_ARN }),
      async () => {
        throw new Error('should not be asked');
      },
    );
    expect(config.gatewaySecret).toBe('a-direct-secret-value');
  });

  it('names the variable when the secret cannot be read or is too short', async () => {
    const denied = resolveSecretArns(loadConfig({ GATEWAY_SECRET_ARN: GW_ARN }), async () => {
      throw new Error('AccessDeniedException');
    });
    await expect(denied).rejects.toThrow(ConfigError);
    await expect(denied).rejects.toThrow(
      /GATEWAY_SECRET_ARN: cannot read the secret \(AccessDeniedException\)/,
    );
    await expect(
      resolveSecretArns(loadConfig({ GATEWAY_SECRET_ARN: GW_ARN }), async () => 'short'),
    ).rejects.toThrow(/at least 16 characters/);
  });
});
