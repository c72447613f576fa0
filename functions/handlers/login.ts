/**
 * `POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/auth-servers` (contracts in
 * ./api/login.ts).
 */
import type { Broker } from '../compose.ts';
import { logout } from '../core/desktops/desktops.ts';
import { emptyOffersReason } from '../core/desktops/offers.ts';
import { enabledAuthServers } from '../core/login/auth-servers.ts';
import { login } from '../core/login/login.ts';
import { authServersRoute, loginRoute, logoutRoute, sessionRoute } from './api/login.ts';
import { clientOf } from './http/client.ts';
import { desktopDeps, loginDeps } from './http/deps.ts';
import { endpoint, sessionEndpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { json } from './http/response.ts';
import { clearedSessionCookie, requireSession, sessionCookie, tokenOf } from './http/session.ts';
import { lambdaHandler } from './lambda.ts';

/** The routes this handler serves, each the implementation of its contract. */
export function loginEndpoints(broker: Broker): Route[] {
  const deps = loginDeps(broker);
  return [
    endpoint(loginRoute, async ({ event, body }) => {
      const { token, session, offers } = await login(deps, {
        username: body.username,
        password: body.password,
        authServer: body.authServer,
        mfaCode: body.mfaCode,
        client: clientOf(event, broker.config, body.client?.name),
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
          ...(offers.length === 0 ? { reason: emptyOffersReason(session) } : {}),
        },
        { 'set-cookie': sessionCookie(token, (session.expiresAt - session.createdAt) / 1000) },
      );
    }),
    endpoint(logoutRoute, async ({ event }) => {
      const token = tokenOf(event);
      const session = token
        ? await requireSession(broker, event).catch(() => undefined)
        : undefined;
      await logout({ ...desktopDeps(broker), sessions: broker.sessions }, session, token);
      return json(200, { ok: true }, { 'set-cookie': clearedSessionCookie() });
    }),
    sessionEndpoint(broker, sessionRoute, async ({ session }) => ({
      user: { name: session.user, groups: [...session.groups] },
      role: session.role,
      admin: session.isAdmin,
      policy: session.policy,
      mode: session.mode,
      expiresAt: new Date(session.expiresAt).toISOString(),
    })),
    endpoint(authServersRoute, async () => ({
      authServers: await enabledAuthServers({ snapshot: broker.snapshot, leasing: broker.leasing }),
    })),
  ];
}

export function buildLoginHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, loginEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(buildLoginHandler);
