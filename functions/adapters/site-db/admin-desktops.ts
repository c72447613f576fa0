/**
 * The admin console's desktop views of the site database: desktops with their state, pool
 * usage, and the administrator's release of a desktop. Lists are keyset-paged
 * (`admin-paging.ts`).
 */
import { type RawBuilder, sql } from 'kysely';
import type {
  AdminDesktop,
  DesktopFilter,
  DesktopPosition,
  DesktopStatus,
  DesktopViews,
  Page,
  PageRequest,
  PoolUsage,
} from '../../core/admin/ports.ts';
import { paged, time } from './admin-paging.ts';
import type { SiteDb } from './connect.ts';

/** A desktop's status (see DESKTOP_STATUSES), for the desktop aliased `d`. */
function statusOf(silentBefore: number): RawBuilder<DesktopStatus> {
  const silent = sql`(d.agent_key_hash IS NOT NULL AND (d.agent_seen_at IS NULL OR d.agent_seen_at < ${new Date(silentBefore)}))`;
  return sql<DesktopStatus>`(CASE
    WHEN ${silent} AND (d.held_by IS NOT NULL OR d.session_state <> 'none') THEN 'agent silent'
    WHEN d.held_by IS NOT NULL AND (d.session_state <> 'none' OR d.agent_key_hash IS NULL) THEN 'in use'
    WHEN d.held_by IS NOT NULL THEN 'assigned'
    WHEN NOT d.available THEN 'unreachable'
    WHEN d.assigned_user IS NOT NULL THEN 'assigned'
    ELSE 'available' END)`;
}

interface DesktopRow {
  id: number;
  name: string;
  pool: string;
  address: string;
  status: DesktopStatus;
  assignedUser: string | null;
  heldBy: string | null;
  heldAt: Date | null;
  sessionState: AdminDesktop['sessionState'];
  managed: boolean;
  agentSeenAt: Date | null;
  agentEvent: string | null;
  agentEventAt: Date | null;
  launchedIp: string | null;
  launchedAt: Date | null;
  launchedClient: string | null;
}

export class SqlDesktopViews implements DesktopViews {
  readonly #db: SiteDb;
  readonly #siteId: number;

  constructor(db: SiteDb, siteId: number) {
    this.#db = db;
    this.#siteId = siteId;
  }

  async desktops(
    filter: DesktopFilter,
    page: PageRequest<DesktopPosition>,
    silentBefore: number,
  ): Promise<Page<AdminDesktop, DesktopPosition>> {
    const status = statusOf(silentBefore);
    const where = [sql`d.deleted_at IS NULL`];
    if (filter.pool) where.push(sql`p.name = ${filter.pool}`);
    if (filter.user)
      where.push(
        sql`(lower(d.held_by) = lower(${filter.user}) OR lower(d.assigned_user) = lower(${filter.user}))`,
      );
    if (filter.status) where.push(sql`${status} = ${filter.status}`);
    if (page.after) where.push(sql`(d.name, d.id) > (${page.after.name}, ${page.after.id})`);
    // The page first, then the per-desktop log lookups for its rows only.
    const { rows } = await sql<DesktopRow>`
      WITH d AS (
        SELECT d.*, p.name AS pool, ${status} AS status
        FROM desktop d JOIN pool p ON p.id = d.pool_id
        WHERE ${sql.join(where, sql` AND `)}
        ORDER BY d.name, d.id
        LIMIT ${page.limit + 1}
      )
      SELECT d.id, d.name, d.pool, d.address, d.status, d.assigned_user, d.held_by, d.held_at,
        d.session_state, d.agent_key_hash IS NOT NULL AS managed, d.agent_seen_at,
        ae.event AS agent_event, ae.at AS agent_event_at,
        lc.client_ip AS launched_ip, lc.at AS launched_at, c.name AS launched_client
      FROM d
      LEFT JOIN LATERAL (
        SELECT event, at FROM log
        WHERE desktop_id = d.id AND event LIKE 'agent\\_%'
        ORDER BY id DESC LIMIT 1
      ) ae ON true
      LEFT JOIN LATERAL (
        SELECT client_ip, at FROM log
        WHERE d.held_by IS NOT NULL AND desktop_id = d.id AND event = 'connect'
          AND lower(user_name) = lower(d.held_by)
        ORDER BY id DESC LIMIT 1
      ) lc ON true
      LEFT JOIN LATERAL (
        SELECT name FROM client
        WHERE ip = lc.client_ip
        ORDER BY (lower(last_user) = lower(d.held_by)) DESC NULLS LAST, last_seen_at DESC
        LIMIT 1
      ) c ON true
      ORDER BY d.name, d.id`.execute(this.#db);
    return paged(
      rows,
      page.limit,
      (r): AdminDesktop => ({
        id: r.id,
        name: r.name,
        pool: r.pool,
        address: r.address,
        status: r.status,
        assignedTo: r.assignedUser,
        heldBy: r.heldBy,
        heldSince: time(r.heldAt),
        sessionState: r.sessionState,
        agent: {
          managed: r.managed,
          lastSeenAt: time(r.agentSeenAt),
          lastEvent:
            r.agentEvent && r.agentEventAt
              ? { event: r.agentEvent.replace(/^agent_/, ''), at: r.agentEventAt.getTime() }
              : null,
        },
        launchedFrom: r.launchedAt
          ? { address: r.launchedIp, client: r.launchedClient, at: r.launchedAt.getTime() }
          : null,
      }),
      (r) => ({ name: r.name, id: r.id }),
    );
  }

  async pools(page: PageRequest<string>, silentBefore: number): Promise<Page<PoolUsage, string>> {
    const count = (s: DesktopStatus) =>
      sql<number>`cast(count(*) FILTER (WHERE s.status = ${s}) as int)`;
    const { rows } = await sql<{
      id: number;
      name: string;
      total: number;
      available: number;
      assigned: number;
      inUse: number;
      unreachable: number;
      agentSilent: number;
    }>`
      WITH s AS (
        SELECT d.pool_id, ${statusOf(silentBefore)} AS status FROM desktop d WHERE d.deleted_at IS NULL
      )
      SELECT p.id, p.name, cast(count(s.status) as int) AS total,
        ${count('available')} AS available, ${count('assigned')} AS assigned,
        ${count('in use')} AS in_use, ${count('unreachable')} AS unreachable,
        ${count('agent silent')} AS agent_silent
      FROM pool p LEFT JOIN s ON s.pool_id = p.id
      WHERE p.deleted_at IS NULL ${page.after ? sql`AND p.name > ${page.after}` : sql``}
      GROUP BY p.id, p.name
      ORDER BY p.name
      LIMIT ${page.limit + 1}`.execute(this.#db);
    const ids = rows.map((r) => r.id);
    const uses =
      ids.length === 0
        ? []
        : await this.#db
            .selectFrom('policyEntry as e')
            .innerJoin('policy as po', 'po.id', 'e.policyId')
            .select(['e.poolId', 'e.backupPoolId', 'po.name'])
            .where('po.deletedAt', 'is', null)
            .where((eb) => eb.or([eb('e.poolId', 'in', ids), eb('e.backupPoolId', 'in', ids)]))
            .orderBy('po.name')
            .execute();
    const policiesOf = (poolId: number) => {
      const out: { name: string; as: 'primary' | 'backup' }[] = [];
      const add = (name: string, as: 'primary' | 'backup') => {
        if (!out.some((p) => p.name === name && p.as === as)) out.push({ name, as });
      };
      for (const u of uses) {
        if (u.poolId === poolId) add(u.name, 'primary');
        if (u.backupPoolId === poolId) add(u.name, 'backup');
      }
      return out;
    };
    return paged(
      rows,
      page.limit,
      (r): PoolUsage => ({
        name: r.name,
        total: r.total,
        counts: {
          available: r.available,
          assigned: r.assigned,
          'in use': r.inUse,
          unreachable: r.unreachable,
          'agent silent': r.agentSilent,
        },
        policies: policiesOf(r.id),
      }),
      (r) => r.name,
    );
  }

  releaseDesktop(
    desktopId: number,
    by: string,
  ): Promise<{ name: string; heldBy: string | null } | undefined> {
    return this.#db.transaction().execute(async (tx) => {
      const desktop = await tx
        .selectFrom('desktop')
        .select(['name', 'heldBy'])
        .where('id', '=', desktopId)
        .where('deletedAt', 'is', null)
        .forUpdate()
        .executeTakeFirst();
      if (!desktop?.heldBy) return desktop;
      const at = new Date();
      await tx
        .updateTable('desktop')
        .set({
          heldBy: null,
          heldAt: null,
          heldRelease: null,
          heldReleaseDelay: null,
          releaseAfter: null,
          sessionState: 'none',
          updatedAt: at,
        })
        .where('id', '=', desktopId)
        .execute();
      await tx
        .updateTable('desktopSession')
        .set({ state: 'ended', endedAt: at, updatedAt: at })
        .where('desktopId', '=', desktopId)
        .where('state', '<>', 'ended')
        .where('deletedAt', 'is', null)
        .execute();
      await tx
        .insertInto('log')
        .values({
          at,
          event: 'release',
          userName: desktop.heldBy,
          desktopId,
          siteId: this.#siteId,
          detail: `by administrator ${by}`.slice(0, 300),
        })
        .execute();
      return desktop;
    });
  }
}
