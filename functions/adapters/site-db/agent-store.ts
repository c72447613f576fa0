/**
 * What desktop agents report (login, logout, disconnect, reconnect, heartbeat), applied to
 * the desktop, its desktop session (the guide's user_session) and the log, one transaction
 * per event.
 */
import { sql, type Transaction } from 'kysely';
import type {
  AgentDesktop,
  AgentEventKind,
  AgentEventResult,
  AgentStore,
} from '../../core/ports.ts';
import type { SiteDb } from './connect.ts';
import type { Database } from './schema.ts';

type Tx = Transaction<Database>;

const DESKTOP = ['id', 'name', 'address', 'heldBy', 'assignedUser'] as const;

export class SqlAgentStore implements AgentStore {
  readonly #db: SiteDb;
  readonly #siteId: number;

  constructor(db: SiteDb, siteId: number) {
    this.#db = db;
    this.#siteId = siteId;
  }

  async desktopByAgentKey(keyHash: string): Promise<AgentDesktop | undefined> {
    return this.#db
      .selectFrom('desktop')
      .select(DESKTOP)
      .where('agentKeyHash', '=', keyHash)
      .where('deletedAt', 'is', null)
      .executeTakeFirst();
  }

  applyEvent(
    desktopId: number,
    event: AgentEventKind,
    user: string | null,
    now: number,
  ): Promise<AgentEventResult> {
    const at = new Date(now);
    return this.#db.transaction().execute(async (tx) => {
      const before = await tx
        .selectFrom('desktop')
        .select([...DESKTOP, 'heldRelease', 'heldReleaseDelay', 'sessionState'])
        .where('id', '=', desktopId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const who = user ?? before.heldBy;
      let released: string | null = null;
      let sessionState = before.sessionState;
      const desktop = tx.updateTable('desktop').where('id', '=', desktopId);

      switch (event) {
        case 'heartbeat':
          await desktop.set({ agentSeenAt: at, available: true }).execute();
          return { desktop: before, released: null, sessionState };
        case 'login':
          await this.#endSessions(tx, desktopId, at);
          await tx
            .insertInto('desktopSession')
            .values({
              desktopId,
              userName: who ?? '',
              state: 'connected',
              startedAt: at,
              updatedAt: at,
            })
            .execute();
          sessionState = 'connected';
          await desktop
            .set({
              sessionState,
              agentSeenAt: at,
              available: true,
              releaseAfter: null,
              heldBy: sql<string>`coalesce(held_by, ${who})`,
              heldAt: sql<Date>`coalesce(held_at, ${at})`,
              updatedAt: at,
            })
            .execute();
          break;
        case 'logout': {
          await this.#endSessions(tx, desktopId, at);
          sessionState = 'none';
          const keep = before.heldRelease === 'never';
          released = keep ? null : before.heldBy;
          await desktop
            .set({
              sessionState,
              agentSeenAt: at,
              releaseAfter: null,
              updatedAt: at,
              ...(keep
                ? {}
                : { heldBy: null, heldAt: null, heldRelease: null, heldReleaseDelay: null }),
            })
            .execute();
          break;
        }
        case 'disconnect': {
          await this.#setSessionState(tx, desktopId, 'disconnected', at);
          sessionState = 'disconnected';
          const delayed = before.heldRelease === 'on_disconnect' && before.heldBy !== null;
          const delay = before.heldReleaseDelay ?? 0;
          if (delayed && delay === 0) {
            released = before.heldBy;
            await desktop
              .set({
                sessionState,
                agentSeenAt: at,
                updatedAt: at,
                heldBy: null,
                heldAt: null,
                heldRelease: null,
                heldReleaseDelay: null,
                releaseAfter: null,
              })
              .execute();
          } else {
            await desktop
              .set({
                sessionState,
                agentSeenAt: at,
                updatedAt: at,
                releaseAfter: delayed ? new Date(now + delay * 1000) : null,
              })
              .execute();
          }
          break;
        }
        case 'reconnect':
          await this.#setSessionState(tx, desktopId, 'connected', at, who);
          sessionState = 'connected';
          await desktop
            .set({
              sessionState,
              agentSeenAt: at,
              available: true,
              releaseAfter: null,
              updatedAt: at,
            })
            .execute();
          break;
      }
      const rows = [
        {
          event: `agent_${event}`,
          userName: who,
          desktopId,
          siteId: this.#siteId,
          detail: null as string | null,
        },
      ];
      if (released)
        rows.push({
          event: 'release',
          userName: released,
          desktopId,
          siteId: this.#siteId,
          detail: `on ${event}`,
        });
      await tx
        .insertInto('log')
        .values(rows.map((r) => ({ ...r, at })))
        .execute();
      return { desktop: before, released, sessionState };
    });
  }

  async #endSessions(tx: Tx, desktopId: number, at: Date): Promise<void> {
    await tx
      .updateTable('desktopSession')
      .set({ state: 'ended', endedAt: at, updatedAt: at })
      .where('desktopId', '=', desktopId)
      .where('state', '<>', 'ended')
      .where('deletedAt', 'is', null)
      .execute();
  }

  /** Moves the open session to `state`; opens one for `user` when there is none (reconnect after a restart). */
  async #setSessionState(
    tx: Tx,
    desktopId: number,
    state: 'connected' | 'disconnected',
    at: Date,
    user?: string | null,
  ): Promise<void> {
    const updated = await tx
      .updateTable('desktopSession')
      .set({ state, updatedAt: at })
      .where('desktopId', '=', desktopId)
      .where('state', '<>', 'ended')
      .where('deletedAt', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0 && user) {
      await tx
        .insertInto('desktopSession')
        .values({ desktopId, userName: user, state, startedAt: at, updatedAt: at })
        .execute();
    }
  }
}
