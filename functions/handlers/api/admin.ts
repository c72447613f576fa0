/**
 * The admin API, `/api/v1/admin/...`: site configuration, cluster, job queue, leases.
 * Administrators only; answered 503 in leased mode.
 */

import { JOB_STATUSES } from '../../core/jobs/ports.ts';
import { siteConfigSchema } from '../../core/site-config/schema.ts';
import * as z from '../../core/zod.ts';
import { cursorParam, nextCursor } from './admin/paging.ts';
import { idParam, isoTime } from './common.ts';
import { route } from './route.ts';

const ADMIN_ERRORS = [401, 403, 503] as const;

export const exportConfigRoute = route({
  method: 'GET',
  path: '/api/v1/admin/config',
  function: 'admin',
  auth: 'admin',
  summary:
    'Export the site configuration (JSON, or YAML with ?format=yaml or Accept: application/yaml)',
  query: z.object({ format: z.optional(z.enum(['json', 'yaml'])) }),
  response: siteConfigSchema.check(z.meta({ id: 'SiteConfig' })),
  errors: ADMIN_ERRORS,
});

export const applyConfigRoute = route({
  method: 'PUT',
  path: '/api/v1/admin/config',
  function: 'admin',
  auth: 'admin',
  summary: 'Apply a site configuration (YAML or JSON body), all or nothing; ?dryRun=true checks it',
  query: z.object({ dryRun: z.optional(z.enum(['true', 'false'])) }),
  body: siteConfigSchema,
  bodyType: 'text',
  response: z.object({
    dryRun: z.boolean(),
    changed: z.boolean(),
    changes: z.array(z.string()),
  }),
  errors: [...ADMIN_ERRORS, 413],
});

const broker = z.object({
  siteId: z.int(),
  name: z.string(),
  address: z.string(),
  status: z.enum(['Running', 'Stopped', 'Unavailable']),
  version: z.string(),
  uuid: z.string(),
  bootedAt: isoTime,
  heartbeatAt: isoTime,
  heartbeatAgeSeconds: z.number(),
  self: z.boolean(),
});

export const clusterRoute = route({
  method: 'GET',
  path: '/api/v1/admin/cluster',
  function: 'admin',
  auth: 'admin',
  summary: 'The brokers of the cluster and the active site database (Cluster Management)',
  response: z.object({
    database: z.object({
      active: z.enum(['primary', 'secondary']),
      target: z.string(),
      secondaryConfigured: z.boolean(),
    }),
    heartbeatSeconds: z.int(),
    /** On AWS the EventBridge schedule fixes the period (HEARTBEAT_SECONDS); else the site setting. */
    heartbeatSource: z.enum(['site setting', 'runtime schedule']),
    brokers: z.array(broker),
  }),
  errors: ADMIN_ERRORS,
});

export const removeBrokerRoute = route({
  method: 'DELETE',
  path: '/api/v1/admin/cluster/{siteId}',
  function: 'admin',
  auth: 'admin',
  summary: 'Remove a Stopped or Unavailable broker; its pending jobs go to the others',
  params: z.object({ siteId: idParam('site') }),
  response: z.object({
    removed: z.int(),
    reassignedJobs: z.int(),
    removedJobs: z.int(),
  }),
  errors: [...ADMIN_ERRORS, 404, 409],
});

const job = z.object({
  id: z.int(),
  kind: z.string(),
  payload: z.unknown(),
  idempotencyKey: z.nullable(z.string()),
  status: z.enum(JOB_STATUSES),
  siteId: z.nullable(z.int()),
  attempts: z.int(),
  runAfter: z.nullable(isoTime),
  createdAt: z.nullable(isoTime),
  startedAt: z.nullable(isoTime),
  finishedAt: z.nullable(isoTime),
  error: z.nullable(z.string()),
});

export const jobsRoute = route({
  method: 'GET',
  path: '/api/v1/admin/jobs',
  function: 'admin',
  auth: 'admin',
  summary: 'The job queue, newest first (Job Queue page)',
  query: z.object({
    status: z.optional(z.enum(JOB_STATUSES)),
    kind: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
    siteId: z.optional(z.coerce.number().check(z.int(), z.positive())),
    limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
    cursor: cursorParam('jobs', z.int().check(z.positive())),
  }),
  response: z.object({ jobs: z.array(job), nextCursor }),
  errors: ADMIN_ERRORS,
});

const lease = z.object({
  user: z.string(),
  authServer: z.string(),
  desktopId: z.int(),
  desktopName: z.string(),
  address: z.string(),
  pool: z.string(),
  launch: z.object({
    protocol: z.string(),
    protocols: z.array(
      z.object({ protocol: z.string(), port: z.int(), gateway: z.optional(z.string()) }),
    ),
  }),
  createdAt: isoTime,
  lastLaunchAt: isoTime,
  expiresAt: isoTime,
});

/** A name in a filter; empty means no filter. */
const optionalName = z.pipe(
  z.optional(z.string().check(z.maxLength(256))),
  z.transform((v) => v || undefined),
);

/** Paging of admin lists: at most `limit` items, and the cursor of the next page. */
const paging = {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2000))),
};

export const leasesRoute = route({
  method: 'GET',
  path: '/api/v1/admin/leases',
  function: 'admin',
  auth: 'admin',
  summary:
    'Connection leases, filtered by user, desktop and state, a page at a time (Get-BrokerLease)',
  query: z.object({
    user: optionalName,
    desktopId: z.optional(idParam('desktop')),
    /** live (default), expired (past expiry, not yet deleted by the table's TTL), or all */
    state: z._default(z.enum(['live', 'expired', 'all']), 'live'),
    ...paging,
  }),
  response: z.object({
    leases: z.array(z.extend(lease, { state: z.enum(['live', 'expired']) })),
    /** Pass as `cursor` for the next page; null on the last one. */
    nextCursor: z.nullable(z.string()),
  }),
  errors: ADMIN_ERRORS,
});

export const removeLeasesRoute = route({
  method: 'DELETE',
  path: '/api/v1/admin/leases',
  function: 'admin',
  auth: 'admin',
  summary:
    'Remove the leases of a user, of a desktop, or one lease (both); all=true removes every lease (Remove-BrokerLease)',
  query: z
    .object({
      user: optionalName,
      desktopId: z.optional(idParam('desktop')),
      all: z.optional(z.enum(['true'])),
    })
    .check(
      z.refine((q) => (q.user !== undefined || q.desktopId !== undefined) !== (q.all === 'true'), {
        message: 'name a user, a desktop (desktopId) or both, or give all=true alone',
      }),
    ),
  response: z.object({ removed: z.int() }),
  errors: ADMIN_ERRORS,
});

export const removeLeaseRoute = route({
  method: 'DELETE',
  path: '/api/v1/admin/leases/{user}/{desktopId}',
  function: 'admin',
  auth: 'admin',
  summary: 'Remove one lease (Remove-BrokerLease)',
  params: z.object({
    user: z.string().check(z.minLength(1), z.maxLength(256)),
    desktopId: idParam('desktop'),
  }),
  response: z.object({ removed: z.int() }),
  errors: [...ADMIN_ERRORS, 404],
});

const userBody = z.strictObject({
  user: z.string().check(z.trim(), z.minLength(1), z.maxLength(256)),
});

export const revokeLeasesRoute = route({
  method: 'POST',
  path: '/api/v1/admin/leases/revoke',
  function: 'admin',
  auth: 'admin',
  summary: 'Remove all of a user’s leases and keep the user out of leased mode',
  body: userBody,
  response: z.object({ user: z.string(), removed: z.int(), revoked: z.literal(true) }),
  errors: ADMIN_ERRORS,
});

export const unrevokeLeasesRoute = route({
  method: 'POST',
  path: '/api/v1/admin/leases/unrevoke',
  function: 'admin',
  auth: 'admin',
  summary: 'Lift a revocation',
  body: userBody,
  response: z.object({ user: z.string(), revoked: z.literal(false) }),
  errors: ADMIN_ERRORS,
});

export const rebuildLeasesRoute = route({
  method: 'POST',
  path: '/api/v1/admin/leases/rebuild',
  function: 'admin',
  auth: 'admin',
  summary:
    'Re-create the leases of launched hard-assigned desktops, drop stale ones, re-copy what leased mode needs (Update-BrokerLocalLeaseCache)',
  response: z.object({
    leases: z.int(),
    written: z.int(),
    removed: z.int(),
    accounts: z.int(),
    agentKeys: z.int(),
  }),
  errors: ADMIN_ERRORS,
});

const secretsByKey = z.record(z.string(), z.int()).check(
  z.meta({
    description: 'Stored secrets by the id of the key that sealed them ("clear": not sealed yet)',
  }),
);

export const secretsStatusRoute = route({
  method: 'GET',
  path: '/api/v1/admin/secrets',
  function: 'admin',
  auth: 'admin',
  summary: 'How the stored secrets (LDAP bind passwords, TOTP secrets) are sealed, by key',
  response: z.object({ byKey: secretsByKey }),
  errors: ADMIN_ERRORS,
});

export const reencryptSecretsRoute = route({
  method: 'POST',
  path: '/api/v1/admin/secrets/reencrypt',
  function: 'admin',
  auth: 'admin',
  summary: 'Re-encrypt every stored secret under the current key, with fresh data keys',
  response: z.object({
    resealed: z.int(),
    total: z.int(),
    byKey: secretsByKey,
  }),
  errors: ADMIN_ERRORS,
});

export const adminRoutes = [
  exportConfigRoute,
  applyConfigRoute,
  clusterRoute,
  removeBrokerRoute,
  jobsRoute,
  leasesRoute,
  removeLeasesRoute,
  removeLeaseRoute,
  revokeLeasesRoute,
  unrevokeLeasesRoute,
  rebuildLeasesRoute,
  secretsStatusRoute,
  reencryptSecretsRoute,
] as const;
