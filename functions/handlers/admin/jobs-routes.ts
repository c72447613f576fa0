/**
 * `/api/v1/admin/jobs`: the guide's Job Queue page. Filters: `status`, `kind`, `siteId`,
 * `limit` (default 100, at most 1000); newest first.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../../compose.ts';
import { JOB_STATUSES, type JobRecord } from '../../core/jobs/ports.ts';
import type { Route } from '../http/handler.ts';
import { queryParam, validate } from '../http/request.ts';
import { json } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

const filterSchema = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.string().min(1).max(100).optional(),
  siteId: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A job as the API shows it: times as ISO strings. */
export function jobView(job: JobRecord) {
  return {
    ...job,
    runAfter: iso(job.runAfter),
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

export function jobsRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/jobs',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const filter = validate(filterSchema, {
          status: queryParam(event, 'status'),
          kind: queryParam(event, 'kind'),
          siteId: queryParam(event, 'siteId'),
          limit: queryParam(event, 'limit'),
        });
        const jobs = await broker.jobs.ledger.list(filter);
        return json(200, { jobs: jobs.map(jobView) });
      },
    },
  ];
}
