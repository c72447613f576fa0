/** The admin API's job-queue summary for the console's overview. */

import { JOB_STATUSES } from '../../../core/jobs/ports.ts';
import * as z from '../../../core/zod.ts';
import { ADMIN_ERRORS, isoTime } from '../common.ts';
import { route } from '../route.ts';

export const jobsSummaryRoute = route({
  method: 'GET',
  path: '/api/v1/admin/jobs/summary',
  function: 'admin',
  auth: 'admin',
  summary: 'The job queue in numbers: jobs by status, and the oldest pending job',
  response: z.object({
    counts: z.object(
      Object.fromEntries(JOB_STATUSES.map((s) => [s, z.int()])) as Record<
        (typeof JOB_STATUSES)[number],
        z.ZodMiniInt
      >,
    ),
    oldestPending: z.nullable(
      z.object({
        id: z.int(),
        kind: z.string(),
        createdAt: isoTime,
        runAfter: isoTime,
        waitingSeconds: z.number(),
      }),
    ),
  }),
  errors: ADMIN_ERRORS,
});

export const overviewRoutes = [jobsSummaryRoute] as const;
