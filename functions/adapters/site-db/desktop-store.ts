/**
 * Desktops in the site database: offer candidates, the atomic claim, releases, log rows.
 * The login and connect statements each do all their work in one round trip (data-modifying
 * CTEs), which is how a login plus offer list stays within 3 round trips and a connect
 * within 2 (DESIGN.md, performance budgets).
 */
import { type RawBuilder, sql } from 'kysely';
import type { DesktopRecord } from '../../core/desktops/offers.ts';
import type {
  ClaimRequest,
  DesktopStore,
  LogEntry,
  LoginRecord,
  OfferQuery,
  ReleaseRules,
} from '../../core/desktops/ports.ts';
import type { SiteDb } from './connect.ts';

const COLUMNS = sql.raw('id, name, pool_id, address, ports, assigned_user, held_by, session_state');
const D_COLUMNS = sql.raw(
  'd.id, d.name, d.pool_id, d.address, d.ports, d.assigned_user, d.held_by, d.session_state',
);
const CLEARED_HOLD = sql.raw(
  'held_by = NULL, held_at = NULL, held_release = NULL, held_release_delay = NULL, release_after = NULL, updated_at = now()',
);

/** `IN (...)` over integers; an empty list matches nothing (`IN ()` is not SQL). */
function inList(ids: readonly number[]): RawBuilder<unknown> {
  if (ids.length === 0) return sql`(NULL)`;
  return sql`(${sql.join(ids.map((id) => sql`${id}`))})`;
}

/** `CASE pool_id WHEN .. THEN .. ELSE fallback END` for a value per pool. */
function byPool<T>(
  column: RawBuilder<unknown>,
  values: ReadonlyMap<number, T>,
  fallback: T,
): RawBuilder<unknown> {
  if (values.size === 0) return sql`${fallback}`;
  const whens = [...values].map(([id, v]) => sql`WHEN ${id} THEN ${v}`);
  return sql`CASE ${column} ${sql.join(whens, sql` `)} ELSE ${fallback} END`;
}

function releaseColumns(rules: ReleaseRules): {
  release: RawBuilder<unknown>;
  delay: RawBuilder<unknown>;
} {
  const column = sql.raw('d.pool_id');
  return {
    release: sql`cast(${byPool(column, new Map([...rules].map(([id, r]) => [id, r.release])), 'on_logout')} as text)`,
    delay: sql`cast(${byPool(column, new Map([...rules].map(([id, r]) => [id, r.delaySeconds])), 0)} as integer)`,
  };
}

type Row = DesktopRecord & { clientId?: number };

const toRecord = (r: Row): DesktopRecord => ({
  id: r.id,
  name: r.name,
  poolId: r.poolId,
  address: r.address,
  ports: r.ports ?? {},
  assignedUser: r.assignedUser,
  heldBy: r.heldBy,
  sessionState: r.sessionState,
});

export class SqlDesktopStore implements DesktopStore {
  readonly #db: SiteDb;
  readonly #siteId: number;

  constructor(db: SiteDb, siteId: number) {
    this.#db = db;
    this.#siteId = siteId;
  }

  /** The user's own desktops and up to `perPool` free ones of each pool, in one query. */
  #candidates(query: OfferQuery): RawBuilder<Row> {
    const own = sql<Row>`
      SELECT ${COLUMNS} FROM desktop
      WHERE deleted_at IS NULL AND (lower(assigned_user) = lower(${query.user}) OR lower(held_by) = lower(${query.user}))`;
    if (query.poolIds.length === 0) return own;
    const pools = sql.join(query.poolIds.map((id) => sql`(cast(${id} as integer))`));
    return sql<Row>`${own}
      UNION ALL
      SELECT ${D_COLUMNS} FROM (VALUES ${pools}) AS p(pool_id)
      CROSS JOIN LATERAL (
        SELECT ${COLUMNS} FROM desktop
        WHERE pool_id = p.pool_id AND deleted_at IS NULL AND held_by IS NULL
          AND assigned_user IS NULL AND available
        ORDER BY id LIMIT ${query.perPool}
      ) AS d`;
  }

  async recordLogin(record: LoginRecord, query: OfferQuery) {
    const { client } = record;
    const result = await sql<Row & { clientId: number }>`
      WITH c AS (
        INSERT INTO client (name, ip, login_gateway, attributes, last_user, first_seen_at, last_seen_at)
        VALUES (${client.name}, ${client.ip}, ${client.loginGateway}, cast(${JSON.stringify(client.attributes)} as jsonb),
                ${record.user}, now(), now())
        ON CONFLICT (name, ip) DO UPDATE SET login_gateway = excluded.login_gateway,
          attributes = excluded.attributes, last_user = excluded.last_user, last_seen_at = excluded.last_seen_at
        RETURNING id
      ), logged AS (
        INSERT INTO log (event, user_name, client_ip, site_id, detail)
        VALUES ('login', ${record.user}, ${client.ip}, ${this.#siteId}, ${record.detail})
      )
      SELECT c.id AS client_id, d.* FROM c LEFT JOIN (${this.#candidates(query)}) AS d ON true`.execute(
      this.#db,
    );
    const rows = result.rows;
    return {
      clientId: rows[0]!.clientId,
      desktops: rows.filter((r) => r.id !== null).map(toRecord),
    };
  }

  async offerCandidates(query: OfferQuery): Promise<DesktopRecord[]> {
    const result = await this.#candidates(query).execute(this.#db);
    return result.rows.map(toRecord);
  }

  async claim(r: ClaimRequest): Promise<DesktopRecord | undefined> {
    const { release, delay } = releaseColumns(r.releaseRules);
    const detail = byPool(sql.raw('pool_id'), r.logDetails, r.defaultDetail);
    const result = await sql<Row>`
      WITH wanted AS (
        -- Only a pool desktop stands for its pool; someone's hard-assigned desktop does not.
        SELECT pool_id FROM desktop WHERE id = ${r.desktopId} AND deleted_at IS NULL AND assigned_user IS NULL
      ), target AS (
        SELECT d.id FROM desktop d
        WHERE d.deleted_at IS NULL AND (
          (d.id = ${r.desktopId}
            AND (lower(d.assigned_user) = lower(${r.user}) OR lower(d.held_by) = lower(${r.user}))
            AND (d.pool_id IN ${inList(r.claimablePoolIds)}
                 OR (${r.otherPoolsClaimable} AND d.pool_id NOT IN ${inList(r.policyPoolIds)})))
          OR (d.held_by IS NULL AND d.assigned_user IS NULL AND d.available
            AND d.pool_id IN ${inList(r.claimablePoolIds)}
            AND d.pool_id = (SELECT pool_id FROM wanted)))
        ORDER BY (d.id = ${r.desktopId}) DESC, d.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      ), claimed AS (
        UPDATE desktop AS d SET held_by = ${r.user}, held_at = now(), held_release = ${release},
          held_release_delay = ${delay}, release_after = NULL, updated_at = now()
        FROM target WHERE d.id = target.id
        RETURNING ${D_COLUMNS}
      ), logged AS (
        INSERT INTO log (event, user_name, desktop_id, client_ip, site_id, detail)
        SELECT 'connect', ${r.user}, id, ${r.clientIp}, ${this.#siteId}, ${detail} FROM claimed
      )
      SELECT * FROM claimed`.execute(this.#db);
    const row = result.rows[0];
    return row ? toRecord(row) : undefined;
  }

  async whyNotClaimed(r: ClaimRequest) {
    const d = await this.#db
      .selectFrom('desktop')
      .select(['poolId', 'assignedUser', 'heldBy'])
      .where('id', '=', r.desktopId)
      .where('deletedAt', 'is', null)
      .executeTakeFirst();
    if (!d) return 'unknown_desktop' as const;
    const me = (name: string | null) =>
      name !== null && name.toLowerCase() === r.user.toLowerCase();
    const mine = me(d.assignedUser) || me(d.heldBy);
    if (d.assignedUser !== null && !me(d.assignedUser)) return 'not_yours' as const;
    const inPolicy = r.policyPoolIds.includes(d.poolId);
    if (!mine && !inPolicy) return 'not_yours' as const;
    const claimable =
      r.claimablePoolIds.includes(d.poolId) || (mine && !inPolicy && r.otherPoolsClaimable);
    if (!claimable) return 'unsupported_protocol' as const;
    return 'pool_exhausted' as const;
  }

  async release(
    user: string,
    desktopId: number,
    clientIp: string,
  ): Promise<DesktopRecord | undefined> {
    const result = await sql<Row>`
      WITH released AS (
        UPDATE desktop SET ${CLEARED_HOLD}
        WHERE id = ${desktopId} AND deleted_at IS NULL AND lower(held_by) = lower(${user})
        RETURNING ${COLUMNS}
      ), logged AS (
        INSERT INTO log (event, user_name, desktop_id, client_ip, site_id, detail)
        SELECT 'release', ${user}, id, ${clientIp}, ${this.#siteId}, 'by user' FROM released
      )
      SELECT * FROM released`.execute(this.#db);
    const row = result.rows[0];
    return row ? toRecord(row) : undefined;
  }

  async releaseOnLogout(user: string, clientIp: string): Promise<DesktopRecord[]> {
    const result = await sql<Row>`
      WITH released AS (
        UPDATE desktop SET ${CLEARED_HOLD}
        WHERE lower(held_by) = lower(${user}) AND deleted_at IS NULL
          AND held_release = 'on_logout' AND session_state = 'none'
        RETURNING ${COLUMNS}
      ), released_log AS (
        INSERT INTO log (event, user_name, desktop_id, client_ip, site_id, detail)
        SELECT 'release', ${user}, id, ${clientIp}, ${this.#siteId}, 'on logout' FROM released
      ), logout_log AS (
        INSERT INTO log (event, user_name, client_ip, site_id) VALUES ('logout', ${user}, ${clientIp}, ${this.#siteId})
      )
      SELECT * FROM released`.execute(this.#db);
    return result.rows.map(toRecord);
  }

  async releaseExpiredDisconnects(now: number): Promise<DesktopRecord[]> {
    const result = await sql<Row & { previousHolder: string }>`
      WITH due AS (
        SELECT id, held_by AS previous_holder FROM desktop
        WHERE release_after <= ${new Date(now)} AND session_state = 'disconnected' AND held_by IS NOT NULL
        FOR UPDATE SKIP LOCKED
      ), released AS (
        UPDATE desktop AS d SET ${CLEARED_HOLD} FROM due WHERE d.id = due.id
        RETURNING ${D_COLUMNS}, due.previous_holder
      ), logged AS (
        INSERT INTO log (event, user_name, desktop_id, site_id, detail)
        SELECT 'release', previous_holder, id, ${this.#siteId}, 'disconnect timeout' FROM released
      )
      SELECT * FROM released`.execute(this.#db);
    return result.rows.map((r) => ({ ...toRecord(r), heldBy: r.previousHolder }));
  }

  async appendLog(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#db
      .insertInto('log')
      .values(
        entries.map((e) => ({
          event: e.event,
          userName: e.user,
          desktopId: e.desktopId ?? null,
          clientIp: e.clientIp ?? null,
          siteId: this.#siteId,
          detail: e.detail ?? null,
        })),
      )
      .execute();
  }
}
