/**
 * Local accounts (argon2id hashes) and the built-in administrator, in the site database.
 */
import { sql } from 'kysely';
import type { AccountStore, LocalAccount } from '../../core/login/ports.ts';
import { BUILTIN_ADMIN } from '../../core/login/sessions.ts';
import type { SiteDb } from './connect.ts';

/** Live local accounts with their authentication server's name (shared with leased mode's mirror). */
export function localAccounts(db: SiteDb) {
  return db
    .selectFrom('userAccount as u')
    .leftJoin('authServer as s', 's.id', 'u.authServerId')
    .select([
      'u.name',
      's.name as authServer',
      'u.passwordHash',
      'u.groups',
      'u.mfaSecret',
      'u.builtin',
    ]);
}

export class SqlAccountStore implements AccountStore {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  findBuiltinAdmin(): Promise<LocalAccount | undefined> {
    return this.findLocalAccount(BUILTIN_ADMIN, null);
  }

  async findLocalAccount(
    name: string,
    authServer: string | null,
  ): Promise<LocalAccount | undefined> {
    const row = await localAccounts(this.#db)
      .where('u.deletedAt', 'is', null)
      .where(sql<boolean>`lower(u.name) = lower(${name})`)
      .$if(authServer === null, (q) => q.where('u.authServerId', 'is', null))
      .$if(authServer !== null, (q) =>
        q
          .where(sql<boolean>`lower(s.name) = lower(${authServer})`)
          .where('s.deletedAt', 'is', null),
      )
      .executeTakeFirst();
    return row ?? undefined;
  }

  async ensureBuiltinAdmin(passwordHash: string): Promise<boolean> {
    const result = await sql`
      insert into user_account (name, auth_server_id, password_hash, groups, builtin)
      select ${BUILTIN_ADMIN}, null, ${passwordHash}, cast('[]' as jsonb), true
      where not exists (
        select 1 from user_account where builtin and auth_server_id is null and deleted_at is null
      )
      on conflict do nothing`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }
}
