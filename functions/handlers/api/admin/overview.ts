/** The admin API's job-queue summary for the console's overview. */
import * as z from 'zod';
import { JOB_STATUSES } from '../../../core/jobs/ports.ts';
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
      Object.fromEntries(JOB_STATUSES.map((s) => [s, z.number().int()])) as Record<
        (typeof JOB_STATUSES)[number],
        z.ZodNumber
      >,
    ),
    oldestPending: z
      .object({
        id: z.number().int(),
        kind: z.string(),
        createdAt: isoTime,
        runAfter: isoTime,
        waitingSeconds: z.number(),
      })
      .nullable(),
  }),
  errors: ADMIN_ERRORS,
});

export const overviewRoutes = [jobsSummaryRoute] as const;
