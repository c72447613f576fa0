/**
 * What leasing reads from the site database: hard-assigned desktops (lease rebuild, lease
 * upkeep) and the accounts and agent keys leased mode mirrors into the state table.
 */
import { sql } from 'kysely';
import type { MirroredAccount, MirroredAgentKey } from '../../core/leasing/ports.ts';
import type { AssignedDesktop, LeasingSource } from '../../core/leasing/upkeep.ts';
import { localAccounts } from './account-store.ts';
import type { SiteDb } from './connect.ts';

export class SqlLeasingQueries implements LeasingSource {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  /** Live hard-assigned desktops; with `running`, only those where the assigned user's session is open. */
  async assignedDesktops(options: { running?: boolean } = {}): Promise<AssignedDesktop[]> {
    const rows = await this.#db
      .selectFrom('desktop as d')
      .innerJoin('pool as p', 'p.id', 'd.poolId')
      .select(['d.id', 'd.name', 'd.address', 'd.ports', 'p.name as pool', 'd.assignedUser'])
      .where('d.deletedAt', 'is', null)
      .where('d.assignedUser', 'is not', null)
      .$if(options.running === true, (q) =>
        q.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('desktopSession as s')
              .select('s.id')
              .whereRef('s.desktopId', '=', 'd.id')
              .where('s.state', '<>', 'ended')
              .where('s.deletedAt', 'is', null)
              .where(sql<boolean>`lower(s.user_name) = lower(d.assigned_user)`),
          ),
        ),
      )
      .orderBy('d.id')
      .execute();
    return rows.map((r) => ({ ...r, ports: r.ports ?? {}, assignedUser: r.assignedUser! }));
  }

  /** Hard-assigned desktops with a `connect` log row of their assigned user since `since`. */
  async launchedDesktops(since: number): Promise<(AssignedDesktop & { lastLaunchAt: number })[]> {
    const rows = await this.#db
      .selectFrom('desktop as d')
      .innerJoin('pool as p', 'p.id', 'd.poolId')
      .innerJoin('log as l', (join) =>
        join
          .onRef('l.desktopId', '=', 'd.id')
          .on('l.event', '=', 'connect')
          .on('l.at', '>', new Date(since))
          .on(sql<boolean>`lower(l.user_name) = lower(d.assigned_user)`),
      )
      .select(['d.id', 'd.name', 'd.address', 'd.ports', 'p.name as pool', 'd.assignedUser'])
      .select((eb) => eb.fn.max('l.at').as('lastLaunchAt'))
      .where('d.deletedAt', 'is', null)
      .where('d.assignedUser', 'is not', null)
      .groupBy(['d.id', 'd.name', 'd.address', 'd.ports', 'p.name', 'd.assignedUser'])
      .orderBy('d.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      address: r.address,
      ports: r.ports ?? {},
      pool: r.pool,
      assignedUser: r.assignedUser!,
      lastLaunchAt: new Date(r.lastLaunchAt as unknown as string | Date).getTime(),
    }));
  }

  /** Every live local account (the built-in admin too), as leased mode verifies them. */
  async accounts(): Promise<MirroredAccount[]> {
    const rows = await localAccounts(this.#db)
      .where('u.deletedAt', 'is', null)
      .where('u.passwordHash', 'is not', null)
      .where(sql<boolean>`(u.auth_server_id is null or s.deleted_at is null)`)
      .execute();
    return rows;
  }

  /** Every live desktop with an agent key. */
  async agentKeys(): Promise<MirroredAgentKey[]> {
    const rows = await this.#db
      .selectFrom('desktop')
      .select(['agentKeyHash', 'id', 'name', 'address', 'heldBy', 'assignedUser'])
      .where('deletedAt', 'is', null)
      .where('agentKeyHash', 'is not', null)
      .execute();
    return rows.map(({ agentKeyHash, ...d }) => ({ ...d, keyHash: agentKeyHash! }));
  }

  /** Live gateway name → id. */
  async gatewayIds(): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('gateway')
      .select(['id', 'name'])
      .where('deletedAt', 'is', null)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.name.toLowerCase(), r.id]));
  }
}
