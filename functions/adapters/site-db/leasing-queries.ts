/**
 * What leasing reads from the site database: hard-assigned desktops (lease rebuild, lease
 * upkeep) and the accounts and agent keys leased mode mirrors into the state table.
 */
import { sql } from 'kysely';
import type { MirroredAccount, MirroredAgentKey } from '../../core/leasing/ports.ts';
import { localAccounts } from './account-store.ts';
import type { SiteDb } from './connect.ts';

export interface AssignedDesktop {
  readonly id: number;
  readonly name: string;
  readonly address: string;
  readonly pool: string;
  readonly assignedUser: string;
  readonly sessionState: 'none' | 'connected' | 'disconnected';
  readonly heldAt: Date | null;
}

export class SqlLeasingQueries {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  /** Live hard-assigned desktops; with `running`, only those with a session open. */
  async assignedDesktops(options: { running?: boolean } = {}): Promise<AssignedDesktop[]> {
    const rows = await this.#db
      .selectFrom('desktop as d')
      .innerJoin('pool as p', 'p.id', 'd.poolId')
      .select([
        'd.id',
        'd.name',
        'd.address',
        'p.name as pool',
        'd.assignedUser',
        'd.sessionState',
        'd.heldAt',
      ])
      .where('d.deletedAt', 'is', null)
      .where('d.assignedUser', 'is not', null)
      .$if(options.running === true, (q) => q.where('d.sessionState', '<>', 'none'))
      .orderBy('d.id')
      .execute();
    return rows as AssignedDesktop[];
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
