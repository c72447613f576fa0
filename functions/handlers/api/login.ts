/** Signing in and out, and what the sign-in page needs to know beforehand. */
import * as z from 'zod';
import { attributesBytes, CLIENT_LIMITS as L } from '../../core/login/client-limits.ts';
import { isoTime, mode, okBody } from './common.ts';
import { noOffersReason, offer } from './offers.ts';
import { route } from './route.ts';

export const loginBody = z
  .strictObject({
    username: z.string().trim().min(1, 'is required').max(256),
    password: z.string().min(1, 'is required').max(1024),
    authServer: z.string().min(1).max(128).optional(),
    mfaCode: z
      .string()
      .regex(/^\d{6,8}$/, 'must be 6 to 8 digits')
      .optional(),
    client: z
      .strictObject({
        name: z.string().max(L.nameLength, `must be at most ${L.nameLength} characters`).optional(),
        attributes: z
          .record(
            z
              .string()
              .min(1, 'must not be empty')
              .max(L.attributeNameLength, `must be at most ${L.attributeNameLength} characters`),
            z
              .string()
              .max(L.attributeValueLength, `must be at most ${L.attributeValueLength} characters`),
          )
          .refine((a) => Object.keys(a).length <= L.attributes, {
            message: `at most ${L.attributes} attributes`,
          })
          .refine((a) => attributesBytes(a) <= L.attributesBytes, {
            message: `at most ${L.attributesBytes} bytes in all (as JSON); the broker keeps about 5 KB of database per login`,
          })
          .optional(),
      })
      .optional(),
  })
  .meta({ id: 'LoginRequest' });

export const loginAnswer = z
  .object({
    token: z.string(),
    expiresAt: isoTime,
    mode,
    user: z.object({ name: z.string(), groups: z.array(z.string()) }),
    role: z.string(),
    policy: z.string().nullable(),
    offers: z.array(offer),
    reason: noOffersReason,
  })
  .meta({ id: 'LoginAnswer' });

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
    .meta({ id: 'AuthServers' }),
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
      policy: z.string().nullable(),
      mode,
      expiresAt: isoTime,
    })
    .meta({ id: 'Session' }),
  errors: [401, 503],
});

export const loginRoutes = [loginRoute, logoutRoute, authServersRoute, sessionRoute] as const;
