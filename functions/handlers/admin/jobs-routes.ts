/**
 * `/api/v1/admin/jobs`: the guide's Job Queue page. Filters: `status`, `kind`, `siteId`,
 * `limit` (default 100, at most 1000), `cursor`; newest first. `/summary`: counts by status
 * and the oldest pending job.
 */
import type { Broker } from '../../compose.ts';
import type { JobRecord } from '../../core/jobs/ports.ts';
import { jobsSummaryRoute } from '../api/admin/overview.ts';
import { encodeCursor } from '../api/admin/paging.ts';
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
    sessionEndpoint(broker, jobsRoute, async ({ query }) => {
      const { cursor, ...filter } = query;
      const rows = await broker.jobs.ledger.list({
        ...filter,
        limit: query.limit + 1,
        beforeId: cursor,
      });
      const shown = rows.slice(0, query.limit);
      return {
        jobs: shown.map(jobView),
        nextCursor: rows.length > query.limit ? encodeCursor('jobs', shown.at(-1)!.id) : null,
      };
    }),
    sessionEndpoint(broker, jobsSummaryRoute, async () => {
      const { counts, oldestPending: oldest } = await broker.jobs.ledger.summary();
      const now = broker.clock.now();
      return {
        counts,
        oldestPending: oldest
          ? {
              id: oldest.id,
              kind: oldest.kind,
              createdAt: new Date(oldest.createdAt).toISOString(),
              runAfter: new Date(oldest.runAfter).toISOString(),
              waitingSeconds: Math.max(0, Math.round((now - oldest.createdAt) / 1000)),
            }
          : null,
      };
    }),
  ];
}
