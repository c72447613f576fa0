/**
 * `/api/v1/admin/jobs`: the guide's Job Queue page. Filters: `status`, `kind`, `siteId`,
 * `limit` (default 100, at most 1000); newest first.
 */
import type { Broker } from '../../compose.ts';
import type { JobRecord } from '../../core/jobs/ports.ts';
import { jobsRoute } from '../api/admin.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

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
    sessionEndpoint(broker, jobsRoute, async ({ query }) => ({
      jobs: (await broker.jobs.ledger.list(query)).map(jobView),
    })),
  ];
}
