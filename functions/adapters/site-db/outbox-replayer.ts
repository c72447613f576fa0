/**
 * Writes leased-mode outbox items back to the site database, each exactly once: the item's
 * id goes into `outbox_applied` in the same transaction as its effect, so a replay that is
 * repeated (two brokers, a crash before the item left the outbox) finds it done. A
 * transaction-level advisory lock keeps concurrent replays from interleaving.
 */
import { sql } from 'kysely';
import type { OutboxItem, OutboxReplayer } from '../../core/leasing/ports.ts';
import { applyAgentEventIn } from './agent-store.ts';
import type { SiteDb } from './connect.ts';
import { forwardRow } from './forward-store.ts';

const REPLAY_LOCK = 7_262_002;

export class SqlOutboxReplayer implements OutboxReplayer {
  readonly #db: SiteDb;
  readonly #siteId: number;

  constructor(db: SiteDb, siteId: number) {
    this.#db = db;
    this.#siteId = siteId;
  }

  apply(id: string, item: OutboxItem): Promise<'applied' | 'duplicate'> {
    return this.#db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${REPLAY_LOCK})`.execute(tx);
      const marked = await tx
        .insertInto('outboxApplied')
        .values({ id })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!marked) return 'duplicate';
      const at = new Date(item.at);
      switch (item.kind) {
        case 'log':
          await tx
            .insertInto('log')
            .values({
              at,
              event: item.entry.event,
              userName: item.entry.user,
              desktopId: item.entry.desktopId ?? null,
              clientIp: item.entry.clientIp ?? null,
              siteId: this.#siteId,
              detail: item.entry.detail ?? null,
            })
            .execute();
          break;
        case 'agent_event':
          await applyAgentEventIn(tx, this.#siteId, item.desktopId, item.event, item.user, item.at);
          break;
        case 'forward':
          await tx.insertInto('gatewayForward').values(forwardRow(item.forward, at)).execute();
          break;
        case 'forwards_closed':
          await tx
            .updateTable('gatewayForward')
            .set({ deletedAt: at })
            .where('deletedAt', 'is', null)
            .where(sql<boolean>`lower(user_name) = lower(${item.user})`)
            .$if(item.desktopId !== undefined, (q) => q.where('desktopId', '=', item.desktopId!))
            .execute();
          break;
      }
      return 'applied';
    });
  }

  /** Forgets markers older than `days` (their items left the outbox long ago). */
  async purgeMarkers(now: number, days = 7): Promise<number> {
    const result = await this.#db
      .deleteFrom('outboxApplied')
      .where('appliedAt', '<', new Date(now - days * 86_400_000))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
