/**
 * `/api/v1/admin/secrets`: how the stored secrets (LDAP bind passwords, TOTP secrets) are
 * sealed, and their re-encryption under the current key with fresh data keys (after a key
 * rotation). Neither shows a secret.
 *
 * - `GET /api/v1/admin/secrets` → `{ byKey: { <key id> | "clear": count } }`
 * - `POST /api/v1/admin/secrets/reencrypt` → `{ resealed, total, byKey }`
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../../compose.ts';
import { resealSecrets, secretsByKey } from '../../core/secrets/reseal.ts';
import { resealDeps } from '../http/deps.ts';
import type { Route } from '../http/handler.ts';
import { json } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

export function secretsRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/secrets',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        return json(200, { byKey: await secretsByKey(resealDeps(broker)) });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/admin/secrets/reencrypt',
      handler: async (event: ALBEvent) => {
        const session = await requireAdminSession(broker, event);
        const deps = resealDeps(broker);
        const result = await resealSecrets(deps, 'all');
        broker.logger.info('stored secrets re-encrypted', { by: session.user, ...result });
        return json(200, { ...result, byKey: await secretsByKey(deps) });
      },
    },
  ];
}
