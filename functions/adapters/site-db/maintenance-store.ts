/**
 * What the built-in jobs change in the site database: the guide's record purge, desktop
 * availability from agent heartbeats, and gateway check results.
 */
import { type SqlBool, sql, type Transaction } from 'kysely';
import type { GatewayEndpoint } from '../../core/gateways/ports.ts';
import type { MaintenanceStore } from '../../core/jobs/ports.ts';
import type { PurgeCutoffs } from '../../core/jobs/purge.ts';
import type { SiteSettings } from '../../core/site-config/schema.ts';
import type { SiteDb } from './connect.ts';
import type { Database } from './schema.ts';
import { mergeSettings } from './site-config-store.ts';

type Tx = Transaction<Database>;

/**
 * Soft-deleted records, in an order that deletes rows before the rows they reference; a
 * record still referenced by a row that stays is kept for a later purge. `where` is SQL
 * appended to `deleted_at < cutoff` (it may name the table as `t`).
 */
const SOFT_DELETED: readonly { table: string; where?: string; before?: string }[] = [
  { table: 'assignment' },
  {
    table: 'policy',
    where: 'not exists (select 1 from assignment a where a.policy_id = t.id)',
    before: 'delete from policy_entry where policy_id in (select id from purgeable)',
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
  {
    table: 'gateway_cluster',
    before: 'delete from gateway_cluster_member where cluster_id in (select id from purgeable)',
  },
  {
    table: 'gateway',
    where: 'not exists (select 1 from gateway_forward f where f.gateway_id = t.id)',
    before: 'delete from gateway_cluster_member where gateway_id in (select id from purgeable)',
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

async function count(tx: Tx, statement: ReturnType<typeof sql>): Promise<number> {
  return (await statement.execute(tx)).rows.length;
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

  purge(c: PurgeCutoffs): Promise<Record<string, number>> {
    return this.#db.transaction().execute(async (tx) => {
      const at = (ms: number) => new Date(ms);
      const deleted: Record<string, number> = {};
      deleted.log = await count(tx, sql`delete from log where at < ${at(c.log)} returning id`);
      deleted.work_queue = await count(
        tx,
        sql`delete from work_queue
          where (status in ('finished', 'cancelled', 'aborted') and finished_at < ${at(c.workQueue)})
             or deleted_at < ${at(c.workQueue)}
          returning id`,
      );
      deleted.gateway_forward = await count(
        tx,
        sql`delete from gateway_forward where deleted_at < ${at(c.gatewayForward)} returning id`,
      );
      deleted.desktop_session = await count(
        tx,
        sql`delete from desktop_session where deleted_at < ${at(c.desktopSession)} returning id`,
      );
      for (const { table, where, before } of SOFT_DELETED) {
        const purgeable = sql`select t.id from ${sql.table(table)} t
          where t.deleted_at < ${at(c.deleted)}${where ? sql.raw(` and ${where}`) : sql``}`;
        if (before) await sql`with purgeable as (${purgeable}) ${sql.raw(before)}`.execute(tx);
        deleted[table] = await count(
          tx,
          sql`with purgeable as (${purgeable})
            delete from ${sql.table(table)} where id in (select id from purgeable) returning id`,
        );
      }
      return deleted;
    });
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

  async gateways(name?: string): Promise<GatewayEndpoint[]> {
    return this.#db
      .selectFrom('gateway')
      .select(['name', 'controlUrl'])
      .where('deletedAt', 'is', null)
      .$if(name !== undefined, (q) => q.where('name', '=', name as string))
      .orderBy('id')
      .execute();
  }

  async recordGatewayCheck(name: string, up: boolean, at: number): Promise<void> {
    await this.#db
      .updateTable('gateway')
      .set((eb) => {
        const status = up ? 'up' : 'down';
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
        };
      })
      .where('name', '=', name)
      .where('deletedAt', 'is', null)
      .execute();
  }
}
