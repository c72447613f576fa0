/** Signing in and out, and what the sign-in page needs to know beforehand. */

import { attributesBytes, CLIENT_LIMITS as L } from '../../core/login/client-limits.ts';
import * as z from '../../core/zod.ts';
import { isoTime, mode, okBody } from './common.ts';
import { noOffersReason, offer } from './offers.ts';
import { route } from './route.ts';

export const loginBody = z
  .strictObject({
    username: z.string().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(256)),
    password: z.string().check(z.minLength(1, 'is required'), z.maxLength(1024)),
    authServer: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
    mfaCode: z.optional(z.string().check(z.regex(/^\d{6,8}$/, 'must be 6 to 8 digits'))),
    client: z.optional(
      z.strictObject({
        name: z.optional(
          z.string().check(z.maxLength(L.nameLength, `must be at most ${L.nameLength} characters`)),
        ),
        attributes: z.optional(
          z
            .record(
              z
                .string()
                .check(
                  z.minLength(1, 'must not be empty'),
                  z.maxLength(
                    L.attributeNameLength,
                    `must be at most ${L.attributeNameLength} characters`,
                  ),
                ),
              z
                .string()
                .check(
                  z.maxLength(
                    L.attributeValueLength,
                    `must be at most ${L.attributeValueLength} characters`,
                  ),
                ),
            )
            .check(
              z.refine((a) => Object.keys(a).length <= L.attributes, {
                message: `at most ${L.attributes} attributes`,
              }),
              z.refine((a) => attributesBytes(a) <= L.attributesBytes, {
                message: `at most ${L.attributesBytes} bytes in all (as JSON); the broker keeps about 5 KB of database per login`,
              }),
            ),
        ),
      }),
    ),
  })
  .check(z.meta({ id: 'LoginRequest' }));

export const loginAnswer = z
  .object({
    token: z.string(),
    expiresAt: isoTime,
    mode,
    user: z.object({ name: z.string(), groups: z.array(z.string()) }),
    role: z.string(),
    policy: z.nullable(z.string()),
    offers: z.array(offer),
    reason: noOffersReason,
  })
  .check(z.meta({ id: 'LoginAnswer' }));

export const loginRoute = route({
  method: 'POST',
  path: '/api/v1/login',
  function: 'login',
  auth: 'none',
  summary: 'Sign in; the answer carries the offer list and the token (also set as a cookie)',
  body: loginBody,
  response: loginAnswer,
  errors: [401, 403, 429, 503],
});

export const logoutRoute = route({
  method: 'POST',
  path: '/api/v1/logout',
  function: 'login',
  auth: 'none',
  summary: 'End the session (if any), release idle on_logout desktops, close forwards',
  response: okBody,
  errors: [503],
});

export const authServersRoute = route({
  method: 'GET',
  path: '/api/v1/auth-servers',
  function: 'login',
  auth: 'none',
  summary: 'The enabled authentication servers a sign-in may name, in their order',
  response: z
    .object({
      authServers: z.array(z.object({ name: z.string(), type: z.enum(['local', 'ldap']) })),
    })
    .check(z.meta({ id: 'AuthServers' })),
  errors: [503],
});

export const sessionRoute = route({
  method: 'GET',
  path: '/api/v1/session',
  function: 'login',
  auth: 'session',
  summary: 'Who is signed in with this token or cookie, and until when',
  response: z
    .object({
      user: z.object({ name: z.string(), groups: z.array(z.string()) }),
      role: z.string(),
      admin: z.boolean(),
      policy: z.nullable(z.string()),
      mode,
      expiresAt: isoTime,
    })
    .check(z.meta({ id: 'Session' })),
  errors: [401, 503],
});

export const loginRoutes = [loginRoute, logoutRoute, authServersRoute, sessionRoute] as const;
