/**
 * What the built-in jobs change in the site database: the guide's record purge, desktop
 * availability from agent heartbeats, and gateway check results.
 */
import { type SqlBool, sql, type Transaction } from 'kysely';
import type { PortRange } from '../../core/gateways/port-range.ts';
import type { GatewayEndpoint } from '../../core/gateways/ports.ts';
import type {
  GatewayCheck,
  MaintenanceStore,
  PurgeOptions,
  PurgeResult,
} from '../../core/jobs/ports.ts';
import type { PurgeCutoffs } from '../../core/jobs/purge.ts';
import type { SiteSettings } from '../../core/site-config/schema.ts';
import type { SiteDb } from './connect.ts';
import type { Database } from './schema.ts';
import { mergeSettings } from './site-config-store.ts';

type Tx = Transaction<Database>;

/**
 * Soft-deleted records, in an order that deletes rows before the rows they reference; a
 * record still referenced by a row that stays is kept for a later purge. `where` is SQL
 * appended to `deleted_at < cutoff` (it may name the table as `t`); `child` names rows of
 * another table to delete first (`table.column` pointing at the purged ids).
 */
const SOFT_DELETED: readonly { table: string; where?: string; child?: string }[] = [
  { table: 'assignment' },
  {
    table: 'policy',
    where: 'not exists (select 1 from assignment a where a.policy_id = t.id)',
    child: 'policy_entry.policy_id',
  },
  {
    table: 'location',
    where: 'not exists (select 1 from assignment a where a.location_id = t.id)',
  },
  { table: 'role', where: 'not exists (select 1 from assignment a where a.role_id = t.id)' },
  {
    table: 'desktop',
    where: `not exists (select 1 from gateway_forward f where f.desktop_id = t.id)
      and not exists (select 1 from desktop_session s where s.desktop_id = t.id)`,
  },
  {
    table: 'pool',
    where: `not exists (select 1 from desktop d where d.pool_id = t.id)
      and not exists (select 1 from policy_entry e where e.pool_id = t.id or e.backup_pool_id = t.id)`,
  },
  { table: 'gateway_cluster', child: 'gateway_cluster_member.cluster_id' },
  {
    table: 'gateway',
    where: 'not exists (select 1 from gateway_forward f where f.gateway_id = t.id)',
    child: 'gateway_cluster_member.gateway_id',
  },
  {
    table: 'protocol_plan',
    where: `not exists (select 1 from location l where l.protocol_plan_id = t.id)
      and not exists (select 1 from policy_entry e where e.protocol_plan_id = t.id)`,
  },
  { table: 'user_account' },
  {
    table: 'auth_server',
    where: 'not exists (select 1 from user_account u where u.auth_server_id = t.id)',
  },
];

/**
 * Rows deleted per statement. Each batch is its own short transaction that reads nothing back
 * (the count is the statement's affected-row count): a large backlog never makes one huge
 * transaction or a response over the Data API's 1 MiB.
 */
export const PURGE_BATCH_ROWS = 5_000;

/** Rows of one statement, as the driver counts them (no rows are returned). */
async function affected(db: SiteDb | Tx, statement: ReturnType<typeof sql>): Promise<number> {
  return Number((await statement.execute(db)).numAffectedRows ?? 0);
}

export class SqlMaintenanceStore implements MaintenanceStore {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  async settings(): Promise<SiteSettings> {
    const rows = await this.#db.selectFrom('setting').select(['key', 'value']).execute();
    return mergeSettings(rows);
  }

  async purge(c: PurgeCutoffs, options: PurgeOptions = {}): Promise<PurgeResult> {
    const batchRows = options.batchRows ?? PURGE_BATCH_ROWS;
    const until = performance.now() + (options.budgetMs ?? Number.POSITIVE_INFINITY);
    const at = (ms: number) => new Date(ms);
    const deleted: Record<string, number> = {};
    let batches = 0;
    /** Runs `batch` until it deletes fewer than a batch, or the time is up. */
    const drain = async (table: string, batch: () => Promise<number>): Promise<boolean> => {
      deleted[table] = 0;
      for (;;) {
        if (performance.now() >= until) return false;
        const n = await batch();
        batches += 1;
        deleted[table] += n;
        if (n < batchRows) return true;
      }
    };
    const plain = (table: string, where: ReturnType<typeof sql>) =>
      drain(table, () =>
        affected(
          this.#db,
          sql`delete from ${sql.table(table)} where id in
            (select id from ${sql.table(table)} where ${where} limit ${batchRows})`,
        ),
      );
    let complete =
      (await plain('log', sql`at < ${at(c.log)}`)) &&
      (await plain(
        'work_queue',
        sql`(status in ('finished', 'cancelled', 'aborted') and finished_at < ${at(c.workQueue)})
          or deleted_at < ${at(c.workQueue)}`,
      )) &&
      (await plain('gateway_forward', sql`deleted_at < ${at(c.gatewayForward)}`)) &&
      (await plain('desktop_session', sql`deleted_at < ${at(c.desktopSession)}`));
    for (const { table, where, child } of SOFT_DELETED) {
      if (!complete) break;
      // The same first ids twice in one transaction: the children, then the records.
      const purgeable = sql`select t.id from ${sql.table(table)} t
        where t.deleted_at < ${at(c.deleted)}${where ? sql.raw(` and ${where}`) : sql``}
        order by t.id limit ${batchRows}`;
      complete = await drain(table, () =>
        this.#db.transaction().execute(async (tx) => {
          if (child) {
            const [childTable, column] = child.split('.') as [string, string];
            await sql`delete from ${sql.table(childTable)}
              where ${sql.ref(column)} in (${purgeable})`.execute(tx);
          }
          return affected(tx, sql`delete from ${sql.table(table)} where id in (${purgeable})`);
        }),
      );
    }
    return { deleted, batches, complete };
  }

  async refreshDesktops(
    seenAfter: number,
    pool?: string,
  ): Promise<{ nowAvailable: number; nowUnavailable: number }> {
    const alive = sql<boolean>`(agent_seen_at is not null and agent_seen_at > ${new Date(seenAfter)})`;
    const rows = await this.#db
      .updateTable('desktop')
      .set({ available: alive })
      .where('agentKeyHash', 'is not', null)
      .where('deletedAt', 'is', null)
      .where(sql<SqlBool>`available is distinct from ${alive}`)
      .$if(pool !== undefined, (q) =>
        q.where('poolId', 'in', (eb) =>
          eb
            .selectFrom('pool')
            .select('id')
            .where('name', '=', pool as string)
            .where('deletedAt', 'is', null),
        ),
      )
      .returning('available')
      .execute();
    const nowAvailable = rows.filter((r) => r.available).length;
    return { nowAvailable, nowUnavailable: rows.length - nowAvailable };
  }

  async gateways(name?: string): Promise<(GatewayEndpoint & { portRange: PortRange })[]> {
    const rows = await this.#db
      .selectFrom('gateway')
      .select(['name', 'controlUrl', 'portFrom', 'portTo'])
      .where('deletedAt', 'is', null)
      .$if(name !== undefined, (q) => q.where('name', '=', name as string))
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      controlUrl: r.controlUrl,
      portRange: { from: r.portFrom, to: r.portTo },
    }));
  }

  async recordGatewayCheck(name: string, check: GatewayCheck, at: number): Promise<void> {
    // What the gateway reported stays from its last answer while it is down.
    const reported = check.reported
      ? {
          reportedPortFrom: check.reported.portRange.from,
          reportedPortTo: check.reported.portRange.to,
          reportedVersion: check.reported.version,
        }
      : {};
    await this.#db
      .updateTable('gateway')
      .set((eb) => {
        const status = check.up ? 'up' : 'down';
        const when = new Date(at);
        // "Down since 10:42": the time moves only when the verdict changes.
        return {
          status,
          checkedAt: when,
          statusSince: eb
            .case()
            .when('status', '=', status)
            .then(eb.fn.coalesce('statusSince', eb.val(when)))
            .else(eb.val(when))
            .end(),
          ...reported,
        };
      })
      .where('name', '=', name)
      .where('deletedAt', 'is', null)
      .execute();
  }
}
