/**
 * The job queue on the overview: jobs by status, the oldest pending one, and the list as the
 * guide's Job Queue page shows it, filtered by status, kind and broker, newest first, paged.
 */
import { adminApi, type Job } from '../shared/admin-api.ts';
import { DataState, FilterChoice, FilterField, Filters, Pager, When } from './components.tsx';
import { useData } from './use-data.ts';

const STATUSES = ['pending', 'running', 'deferred', 'finished', 'cancelled', 'aborted'] as const;
const STATUS_CLASS: Record<Job['status'], string> = {
  pending: 'accent',
  running: 'accent',
  deferred: 'warn',
  finished: 'ok',
  cancelled: 'neutral',
  aborted: 'danger',
};

export function JobsSection(props: { readonly params: URLSearchParams }) {
  const p = props.params;
  const query = {
    status: p.get('jobStatus') ?? undefined,
    kind: p.get('jobKind') ?? undefined,
    siteId: p.get('jobSite') ?? undefined,
    cursor: p.get('jobCursor') ?? undefined,
    limit: '10',
  };
  const key = JSON.stringify(query);
  const summary = useData('jobs-summary', () => adminApi.jobsSummary());
  const jobs = useData(key, () => adminApi.jobs(query));

  return (
    <section class="card" aria-labelledby="job-queue">
      <h2 id="job-queue">Job queue</h2>
      <DataState data={summary} what="jobs" />
      {summary.data && (
        <>
          <ul class="counts" aria-label="Jobs by status">
            {STATUSES.map((s) => (
              <li key={s}>
                <span class="count">{summary.data!.counts[s]}</span> {s}
              </li>
            ))}
          </ul>
          <p>
            {summary.data.oldestPending ? (
              <>
                Oldest pending job: <strong>{summary.data.oldestPending.kind}</strong> #
                {summary.data.oldestPending.id}, created{' '}
                <When iso={summary.data.oldestPending.createdAt} />, due{' '}
                <When iso={summary.data.oldestPending.runAfter} />.
              </>
            ) : (
              'No job is pending.'
            )}
          </p>
        </>
      )}
      <Filters key={key} view="" label="Filter the job queue" keep={{}}>
        <FilterChoice
          id="job-status"
          name="jobStatus"
          label="Status"
          value={query.status}
          values={STATUSES}
        />
        <FilterField
          id="job-kind"
          name="jobKind"
          label="Kind"
          value={query.kind}
          placeholder="heartbeat, refresh_pool…"
        />
        <FilterField
          id="job-site"
          name="jobSite"
          label="Broker (site ID)"
          value={query.siteId}
          kind="number"
        />
      </Filters>
      <DataState data={jobs} what="jobs" />
      {jobs.data && jobs.data.jobs.length === 0 && <p class="muted">No job matches.</p>}
      {jobs.data && jobs.data.jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Broker</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.jobs.map((j) => (
                <tr key={j.id}>
                  <th scope="row">
                    {j.kind} <span class="muted">#{j.id}</span>
                  </th>
                  <td>
                    <span class={`badge ${STATUS_CLASS[j.status]}`}>{j.status}</span>
                  </td>
                  <td>{j.siteId ?? <span class="muted">any</span>}</td>
                  <td>{j.attempts}</td>
                  <td>
                    <When iso={j.createdAt} />
                  </td>
                  <td>
                    <When iso={j.finishedAt} />
                  </td>
                  <td class="wrap">{j.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        view=""
        params={props.params}
        next={jobs.data?.nextCursor}
        cursorParam="jobCursor"
        label="jobs"
      />
    </section>
  );
}
