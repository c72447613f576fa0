/**
 * The cluster's brokers in the site database (`broker` table). Times come from the
 * database's clock, so brokers whose clocks differ still judge heartbeats alike.
 */
import { sql, type Transaction } from 'kysely';
import type {
  BrokerIdentity,
  BrokerRecord,
  ClusterSnapshot,
  ClusterStore,
  RemovalResult,
} from '../../core/jobs/ports.ts';
import type { SiteDb } from './connect.ts';
import type { Database } from './schema.ts';
import { mergeSettings } from './site-config-store.ts';

type Tx = Transaction<Database> | SiteDb;

/** Serialises registrations and removals of one site ID across the cluster. */
const CLUSTER_LOCK = 7_262_002;

interface BrokerRow {
  siteId: number;
  uuid: string;
  name: string;
  address: string;
  version: string;
  bootedAt: Date;
  heartbeatAt: Date;
  status: 'running' | 'stopped';
}

const toRecord = (r: BrokerRow): BrokerRecord => ({
  siteId: r.siteId,
  uuid: r.uuid,
  name: r.name,
  address: r.address,
  version: r.version,
  bootedAt: r.bootedAt.getTime(),
  heartbeatAt: r.heartbeatAt.getTime(),
  status: r.status,
});

/**
 * The database's clock and the heartbeat period: the one the runtime fixes (`fixed`, on AWS
 * the EventBridge schedule's), else the site's setting.
 */
async function clockAndHeartbeat(
  db: Tx,
  fixed: number | undefined,
): Promise<{ now: number; heartbeatSeconds: number }> {
  const rows = await sql<{ key: string; value: unknown; now: Date }>`
    select s.key, s.value, n.now from (select now() as now) n
    left join setting s on s.key = 'heartbeatSeconds'`.execute(db);
  const now = rows.rows[0]!.now.getTime();
  const settings = mergeSettings(rows.rows.filter((r) => r.key !== null));
  return { now, heartbeatSeconds: fixed ?? settings.heartbeatSeconds };
}

export class SqlClusterStore implements ClusterStore {
  readonly #db: SiteDb;
  readonly #heartbeatSeconds: number | undefined;
  /** @param heartbeatSeconds the runtime's fixed heartbeat period (HEARTBEAT_SECONDS), if any. */
  constructor(db: SiteDb, heartbeatSeconds?: number) {
    this.#db = db;
    this.#heartbeatSeconds = heartbeatSeconds;
  }

  register(
    self: BrokerIdentity,
    check: (existing: BrokerRecord | undefined, now: number, heartbeatSeconds: number) => void,
  ): Promise<{ rejoined: boolean }> {
    return this.#db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(cast(${CLUSTER_LOCK} as integer), cast(${self.siteId} as integer))`.execute(
        tx,
      );
      const { now, heartbeatSeconds } = await clockAndHeartbeat(tx, this.#heartbeatSeconds);
      const existing = await tx
        .selectFrom('broker')
        .selectAll()
        .where('siteId', '=', self.siteId)
        .executeTakeFirst();
      check(existing ? toRecord(existing) : undefined, now, heartbeatSeconds);
      const row = { ...self, status: 'running' as const };
      await tx
        .insertInto('broker')
        .values({ ...row, bootedAt: sql`now()`, heartbeatAt: sql`now()` })
        .onConflict((oc) =>
          oc
            .column('siteId')
            .doUpdateSet({ ...row, bootedAt: sql`now()`, heartbeatAt: sql`now()` }),
        )
        .execute();
      return { rejoined: existing !== undefined };
    });
  }

  async beat(self: BrokerIdentity): Promise<void> {
    // A broker that lost its site ID to another (different UUID) does not beat for it.
    await sql`
      insert into broker (site_id, uuid, name, address, version, booted_at, heartbeat_at, status)
      values (${self.siteId}, ${self.uuid}, ${self.name}, ${self.address}, ${self.version},
              now(), now(), 'running')
      on conflict (site_id) do update set heartbeat_at = now(), status = 'running'
        where broker.uuid = excluded.uuid`.execute(this.#db);
  }

  async stop(self: BrokerIdentity): Promise<void> {
    const { siteId } = self;
    await this.#db.transaction().execute(async (tx) => {
      const mine = await tx
        .updateTable('broker')
        .set({ status: 'stopped' })
        .where('siteId', '=', siteId)
        .where('uuid', '=', self.uuid)
        .returning('siteId')
        .execute();
      if (mine.length === 0) return;
      // The guide: Stopped is "the heartbeat job of this broker has been cancelled".
      await tx
        .updateTable('workQueue')
        .set({ status: 'cancelled', finishedAt: sql`now()` })
        .where('siteId', '=', siteId)
        .where('kind', '=', 'heartbeat')
        .where('status', 'in', ['pending', 'deferred'])
        .execute();
    });
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const { now, heartbeatSeconds } = await clockAndHeartbeat(this.#db, this.#heartbeatSeconds);
    const rows = await this.#db.selectFrom('broker').selectAll().orderBy('siteId').execute();
    return { now, heartbeatSeconds, brokers: rows.map(toRecord) };
  }

  remove(
    siteId: number,
    check: (row: BrokerRecord, now: number, heartbeatSeconds: number) => void,
  ): Promise<RemovalResult | undefined> {
    return this.#db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(cast(${CLUSTER_LOCK} as integer), cast(${siteId} as integer))`.execute(
        tx,
      );
      const { now, heartbeatSeconds } = await clockAndHeartbeat(tx, this.#heartbeatSeconds);
      const row = await tx
        .selectFrom('broker')
        .selectAll()
        .where('siteId', '=', siteId)
        .executeTakeFirst();
      if (!row) return undefined;
      check(toRecord(row), now, heartbeatSeconds);
      // The guide: its Finished, Cancelled and Aborted jobs are removed (and its heartbeats
      // mean nothing without it); its pending jobs go to the remaining brokers.
      const removed = await tx
        .deleteFrom('workQueue')
        .where('siteId', '=', siteId)
        .where((eb) =>
          eb.or([
            eb('status', 'in', ['finished', 'cancelled', 'aborted']),
            eb('kind', '=', 'heartbeat'),
          ]),
        )
        .returning('id')
        .execute();
      const reassigned = await tx
        .updateTable('workQueue')
        .set({ status: 'pending', siteId: null, startedAt: null })
        .where('siteId', '=', siteId)
        .where('status', 'in', ['pending', 'deferred', 'running'])
        .returning('id')
        .execute();
      await tx.deleteFrom('broker').where('siteId', '=', siteId).execute();
      return { reassignedJobs: reassigned.length, removedJobs: removed.length };
    });
  }
}
