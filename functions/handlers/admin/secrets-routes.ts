/**
 * `/api/v1/admin/secrets`: how the stored secrets (LDAP bind passwords, TOTP secrets) are
 * sealed, and their re-encryption under the current key with fresh data keys (after a key
 * rotation). Neither shows a secret.
 */
import type { Broker } from '../../compose.ts';
import { resealSecrets, secretsByKey } from '../../core/secrets/reseal.ts';
import { reencryptSecretsRoute, secretsStatusRoute } from '../api/admin.ts';
import { resealDeps } from '../http/deps.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

export function secretsRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, secretsStatusRoute, async () => ({
      byKey: await secretsByKey(resealDeps(broker)),
    })),
    sessionEndpoint(broker, reencryptSecretsRoute, async ({ session }) => {
      const deps = resealDeps(broker);
      const result = await resealSecrets(deps, 'all');
      broker.logger.info('stored secrets re-encrypted', { by: session.user, ...result });
      return { ...result, byKey: await secretsByKey(deps) };
    }),
  ];
}
