/**
 * `POST /api/v1/login` and `POST /api/v1/logout`.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../compose.ts';
import { logout } from '../core/desktops/desktops.ts';
import { login } from '../core/login/login.ts';
import { clientOf } from './http/client.ts';
import { desktopDeps, loginDeps } from './http/deps.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { jsonBody } from './http/request.ts';
import { json } from './http/response.ts';
import { clearedSessionCookie, requireSession, sessionCookie, tokenOf } from './http/session.ts';
import { lambdaHandler } from './lambda.ts';

const loginBody = z.strictObject({
  username: z.string().trim().min(1, 'is required').max(256),
  password: z.string().min(1, 'is required').max(1024),
  authServer: z.string().min(1).max(128).optional(),
  mfaCode: z
    .string()
    .regex(/^\d{6,8}$/, 'must be 6 to 8 digits')
    .optional(),
  client: z
    .strictObject({
      name: z.string().max(256).optional(),
      attributes: z.record(z.string().max(64), z.string().max(1024)).optional(),
    })
    .optional(),
});

export function buildLoginHandler(broker: Broker): AlbHandler {
  const deps = loginDeps(broker);
  return httpHandler(broker.logger, [
    {
      method: 'POST',
      path: '/api/v1/login',
      handler: async (event: ALBEvent) => {
        const body = jsonBody(event, loginBody);
        const { token, session, offers } = await login(deps, {
          username: body.username,
          password: body.password,
          authServer: body.authServer,
          mfaCode: body.mfaCode,
          client: clientOf(event, broker.config.gatewaySecret, body.client?.name),
          reported: body.client?.attributes ?? {},
        });
        return json(
          200,
          {
            token,
            expiresAt: new Date(session.expiresAt).toISOString(),
            mode: session.mode,
            user: { name: session.user, groups: session.groups },
            role: session.role,
            policy: session.policy,
            offers,
          },
          { 'set-cookie': sessionCookie(token, (session.expiresAt - session.createdAt) / 1000) },
        );
      },
    },
    {
      method: 'POST',
      path: '/api/v1/logout',
      handler: async (event: ALBEvent) => {
        const token = tokenOf(event);
        const session = token
          ? await requireSession(broker, event).catch(() => undefined)
          : undefined;
        await logout({ ...desktopDeps(broker), sessions: broker.sessions }, session, token);
        return json(200, { ok: true }, { 'set-cookie': clearedSessionCookie() });
      },
    },
  ]);
}

export const handler = lambdaHandler(buildLoginHandler);
