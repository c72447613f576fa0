/**
 * The stored secrets of the site database: LDAP bind passwords (`auth_server.settings`) and
 * TOTP secrets (`user_account.mfa_secret`), soft-deleted rows included (they keep their values
 * until the purge).
 */
import { sql } from 'kysely';
import type { SecretRef, StoredSecret, StoredSecrets } from '../../core/secrets/ports.ts';
import type { SiteDb } from './connect.ts';

export class SqlStoredSecrets implements StoredSecrets {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  async list(): Promise<StoredSecret[]> {
    const [servers, users] = await Promise.all([
      this.#db
        .selectFrom('authServer')
        .select(['id', sql<string | null>`settings->>'bindPassword'`.as('value')])
        .where(sql<boolean>`settings->>'bindPassword' is not null`)
        .orderBy('id')
        .execute(),
      this.#db
        .selectFrom('userAccount')
        .select(['id', 'mfaSecret as value'])
        .where('mfaSecret', 'is not', null)
        .orderBy('id')
        .execute(),
    ]);
    return [
      ...servers.map((r) => ({
        ref: { kind: 'bind_password', id: r.id } as const,
        value: r.value!,
      })),
      ...users.map((r) => ({ ref: { kind: 'totp_secret', id: r.id } as const, value: r.value! })),
    ];
  }

  replace(changes: readonly { ref: SecretRef; from: string; to: string }[]): Promise<number> {
    return this.#db.transaction().execute(async (tx) => {
      let replaced = 0;
      for (const { ref, from, to } of changes) {
        const result =
          ref.kind === 'bind_password'
            ? await tx
                .updateTable('authServer')
                .set({
                  settings: sql<
                    Record<string, unknown>
                  >`jsonb_set(settings, '{bindPassword}', to_jsonb(cast(${to} as text)))`,
                })
                .where('id', '=', ref.id)
                .where(sql<boolean>`settings->>'bindPassword' = ${from}`)
                .executeTakeFirst()
            : await tx
                .updateTable('userAccount')
                .set({ mfaSecret: to })
                .where('id', '=', ref.id)
                .where('mfaSecret', '=', from)
                .executeTakeFirst();
        replaced += Number(result.numUpdatedRows);
      }
      return replaced;
    });
  }
}
