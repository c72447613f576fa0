/**
 * `POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/auth-servers` (contracts in
 * ./api/login.ts).
 */
import type { ALBEvent } from 'aws-lambda';
import { type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDesktops } from '../compose/desktops.ts';
import { composeDirectory, composeLogin, composeSessions } from '../compose/login.ts';
import type { Config } from '../config.ts';
import { logout } from '../core/desktops/desktops.ts';
import { emptyOffersReason } from '../core/desktops/offers.ts';
import { AppError } from '../core/errors.ts';
import { enabledAuthServers } from '../core/login/auth-servers.ts';
import { logFailedLogin, login } from '../core/login/login.ts';
import { storableText } from '../core/text.ts';
import { authServersRoute, loginRoute, logoutRoute, sessionRoute } from './api/login.ts';
import { clientOf } from './http/client.ts';
import { desktopDeps, type LoginBroker, loginDeps } from './http/deps.ts';
import { endpoint, sessionEndpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { bodyText, clientIp } from './http/request.ts';
import { json } from './http/response.ts';
import { clearedSessionCookie, requireSession, sessionCookie, tokenOf } from './http/session.ts';
import { lambdaHandler } from './lambda.ts';

/** Composes what signing in uses: sessions, the directory, local accounts, the desktop side. */
export async function composeLoginBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<LoginBroker> {
  const base = await composeBase(config, options);
  return {
    ...base,
    ...composeSessions(base),
    ...composeDirectory(base),
    ...composeLogin(base),
    ...composeDesktops(base),
  };
}

/** The user name a refused request tried, as far as it can be read and stored. */
function attemptedUser(event: ALBEvent): string | null {
  try {
    const name = (JSON.parse(bodyText(event)) as { username?: unknown })?.username;
    return typeof name === 'string' && name.trim() !== '' ? storableText(name.trim(), 256) : null;
  } catch {
    return null;
  }
}

/**
 * Every sign-in attempt leaves a log row, a request refused before authentication (malformed,
 * too large, bad text) too; the use case writes the rows of the attempts it sees.
 */
function loggingRefusals(broker: LoginBroker, route: Route, reached: WeakSet<ALBEvent>): Route {
  return {
    ...route,
    handler: async (event, context) => {
      try {
        return await route.handler(event, context);
      } catch (e: unknown) {
        if (e instanceof AppError && e.status < 500 && !reached.has(event)) {
          await logFailedLogin(loginDeps(broker), {
            user: attemptedUser(event),
            clientIp: storableText(clientIp(event), 64),
            detail: e.code,
          });
        }
        throw e;
      }
    },
  };
}

/** The routes this handler serves, each the implementation of its contract. */
export function loginEndpoints(broker: LoginBroker): Route[] {
  const deps = loginDeps(broker);
  const reached = new WeakSet<ALBEvent>();
  const signIn = endpoint(loginRoute, async ({ event, body }) => {
    reached.add(event);
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
  });
  return [
    loggingRefusals(broker, signIn, reached),
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

export function buildLoginHandler(broker: LoginBroker): AlbHandler {
  return httpHandler(broker.logger, loginEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(composeLoginBroker, buildLoginHandler);
