/**
 * The job ledger in the site database's `work_queue` table. Every status change is one
 * statement that checks the status it changes from, so two brokers (or two deliveries of one
 * SQS message) never both run a job, and a broker whose job was taken over cannot record it.
 */
import { type RawBuilder, sql } from 'kysely';
import type { JobPayload } from '../../core/jobs/payload.ts';
import type {
  ClaimedJob,
  JobFilter,
  JobLedger,
  JobQueueSummary,
  JobRecord,
  JobStatus,
  JobSummarySource,
} from '../../core/jobs/ports.ts';
import { JOB_STATUSES } from '../../core/jobs/ports.ts';
import type { SiteDb } from '../site-db/connect.ts';
import { jsonb } from '../site-db/schema.ts';

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);

/** `now() - N ms`, bound as a number on every dialect. */
const ago = (milliseconds: number): RawBuilder<Date> =>
  sql<Date>`now() - cast(${Math.max(0, Math.round(milliseconds))} as double precision) * interval '1 millisecond'`;

interface ClaimRow {
  id: number;
  kind: string;
  idempotencyKey: string;
  attempts: number;
  payload: unknown;
}

export class SqlJobLedger implements JobLedger, JobSummarySource {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  async record(
    job: JobPayload,
    key: string,
    options: { runAt?: number; siteId?: number } = {},
  ): Promise<boolean> {
    const row = await this.#db
      .insertInto('workQueue')
      .values({
        kind: job.kind,
        payload: jsonb(job as Record<string, unknown>),
        idempotencyKey: key,
        status: 'pending',
        siteId: options.siteId ?? null,
        ...(options.runAt !== undefined ? { runAfter: new Date(options.runAt) } : {}),
      })
      .onConflict((oc) => oc.column('idempotencyKey').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async start(
    key: string,
    job: JobPayload,
    siteId: number,
    staleAfterMs: number,
  ): Promise<ClaimedJob | undefined> {
    const result = await sql<ClaimRow>`
      insert into work_queue (kind, payload, idempotency_key, status, site_id, attempts, started_at)
      values (${job.kind}, ${jsonb(job)}, ${key}, 'running', ${siteId}, 1, now())
      on conflict (idempotency_key) do update
        set status = 'running', site_id = excluded.site_id, started_at = now(),
            attempts = work_queue.attempts + 1
        where work_queue.deleted_at is null
          and (work_queue.status in ('pending', 'deferred')
            or (work_queue.status = 'running' and work_queue.started_at < ${ago(staleAfterMs)}))
      returning id, kind, idempotency_key, attempts, payload`.execute(this.#db);
    return result.rows[0];
  }

  async claim(
    siteId: number,
    limit: number,
    staleAfterMs: number,
    kind?: string,
  ): Promise<ClaimedJob[]> {
    if (limit < 1) return [];
    // Heartbeats first: a broker whose queue is full must still show it is alive.
    const result = await sql<ClaimRow>`
      update work_queue
        set status = 'running', site_id = ${siteId}, started_at = now(), attempts = attempts + 1
      where id in (
        select id from work_queue
        where deleted_at is null
          and ((status in ('pending', 'deferred') and run_after <= now()
                and (site_id is null or site_id = ${siteId}))
            or (status = 'running' and started_at < ${ago(staleAfterMs)}))
          and (cast(${kind ?? null} as text) is null or kind = ${kind ?? null})
        order by (kind = 'heartbeat') desc, run_after, id
        limit ${Math.floor(limit)}
        for update skip locked)
      returning id, kind, idempotency_key, attempts, payload`.execute(this.#db);
    return result.rows;
  }

  async finish(job: ClaimedJob, siteId: number): Promise<boolean> {
    const row = await this.#db
      .updateTable('workQueue')
      .set({ status: 'finished', finishedAt: sql`now()`, error: null })
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      .where('siteId', '=', siteId)
      .where('attempts', '=', job.attempts)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async fail(
    job: ClaimedJob,
    siteId: number,
    error: string,
    retryAt: number | undefined,
  ): Promise<void> {
    const fenced = this.#db
      .updateTable('workQueue')
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      .where('siteId', '=', siteId)
      .where('attempts', '=', job.attempts);
    const text = `site ${siteId}: ${error}`;
    if (retryAt === undefined) {
      await fenced.set({ status: 'aborted', finishedAt: sql`now()`, error: text }).execute();
    } else {
      // Any broker may retry it: the one that failed may be the problem.
      await fenced
        .set({ status: 'deferred', runAfter: new Date(retryAt), siteId: null, error: text })
        .execute();
    }
  }

  /** Forgets a pending job whose message could not be sent (SQS). */
  async forget(key: string): Promise<void> {
    await this.#db
      .deleteFrom('workQueue')
      .where('idempotencyKey', '=', key)
      .where('status', '=', 'pending')
      .execute();
  }

  async list(filter: JobFilter): Promise<JobRecord[]> {
    const rows = await this.#db
      .selectFrom('workQueue')
      .selectAll()
      .where('deletedAt', 'is', null)
      .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status as JobStatus))
      .$if(filter.kind !== undefined, (q) => q.where('kind', '=', filter.kind as string))
      .$if(filter.siteId !== undefined, (q) => q.where('siteId', '=', filter.siteId as number))
      .$if(filter.beforeId !== undefined, (q) => q.where('id', '<', filter.beforeId as number))
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      payload: r.payload,
      idempotencyKey: r.idempotencyKey,
      status: r.status,
      siteId: r.siteId,
      attempts: r.attempts,
      runAfter: r.runAfter.getTime(),
      createdAt: r.createdAt.getTime(),
      startedAt: ms(r.startedAt),
      finishedAt: ms(r.finishedAt),
      error: r.error,
    }));
  }

  async summary(): Promise<JobQueueSummary> {
    const [rows, oldest] = await Promise.all([
      this.#db
        .selectFrom('workQueue')
        .select(['status', sql<number>`cast(count(*) as int)`.as('n')])
        .where('deletedAt', 'is', null)
        .groupBy('status')
        .execute(),
      this.#db
        .selectFrom('workQueue')
        .select(['id', 'kind', 'createdAt', 'runAfter'])
        .where('deletedAt', 'is', null)
        .where('status', '=', 'pending')
        .orderBy('createdAt')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst(),
    ]);
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    for (const r of rows) counts[r.status] = Number(r.n);
    return {
      counts,
      oldestPending: oldest && {
        id: oldest.id,
        kind: oldest.kind,
        createdAt: oldest.createdAt.getTime(),
        runAfter: oldest.runAfter.getTime(),
      },
    };
  }
}
