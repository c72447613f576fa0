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
} from '../../core/agents/ports.ts';
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

  async silentSince(cutoff: number): Promise<number[]> {
    const rows = await this.#db
      .selectFrom('desktop')
      .select('id')
      .where('deletedAt', 'is', null)
      .where('sessionState', '=', 'connected')
      .where('agentSeenAt', '<', new Date(cutoff))
      .execute();
    return rows.map((r) => r.id);
  }

  applyEvent(
    desktopId: number,
    event: AgentEventKind,
    user: string | null,
    now: number,
  ): Promise<AgentEventResult> {
    return this.#db
      .transaction()
      .execute((tx) => applyAgentEventIn(tx, this.#siteId, desktopId, event, user, now));
  }
}

/**
 * One agent event in the caller's transaction: desktop state, desktop session, release per
 * the rule the desktop was claimed under, log row. The outbox replay uses it too, for events
 * that arrived in leased mode.
 */
export async function applyAgentEventIn(
  tx: Tx,
  siteId: number,
  desktopId: number,
  event: AgentEventKind,
  user: string | null,
  now: number,
): Promise<AgentEventResult> {
  const at = new Date(now);
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
  const cleared = {
    heldBy: null,
    heldAt: null,
    heldRelease: null,
    heldReleaseDelay: null,
    releaseAfter: null,
  };

  switch (event) {
    case 'heartbeat':
      await desktop.set({ agentSeenAt: at, available: true }).execute();
      return { desktop: before, released: null, sessionState };
    case 'login':
      await endSessions(tx, desktopId, at);
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
      await endSessions(tx, desktopId, at);
      sessionState = 'none';
      const keep = before.heldRelease === 'never';
      released = keep ? null : before.heldBy;
      await desktop
        .set({
          sessionState,
          agentSeenAt: at,
          releaseAfter: null,
          updatedAt: at,
          ...(keep ? {} : cleared),
        })
        .execute();
      break;
    }
    case 'disconnect': {
      await setSessionState(tx, desktopId, 'disconnected', at);
      sessionState = 'disconnected';
      const delayed = before.heldRelease === 'on_disconnect' && before.heldBy !== null;
      const delay = before.heldReleaseDelay ?? 0;
      if (delayed && delay === 0) {
        released = before.heldBy;
        await desktop.set({ sessionState, agentSeenAt: at, updatedAt: at, ...cleared }).execute();
      } else {
        const releaseAfter = delayed ? new Date(now + delay * 1000) : null;
        await desktop.set({ sessionState, agentSeenAt: at, updatedAt: at, releaseAfter }).execute();
      }
      break;
    }
    case 'reconnect':
      await setSessionState(tx, desktopId, 'connected', at, who);
      sessionState = 'connected';
      await desktop
        .set({ sessionState, agentSeenAt: at, available: true, releaseAfter: null, updatedAt: at })
        .execute();
      break;
  }
  const rows = [
    { event: `agent_${event}`, userName: who, desktopId, siteId, detail: null as string | null },
  ];
  if (released)
    rows.push({ event: 'release', userName: released, desktopId, siteId, detail: `on ${event}` });
  await tx
    .insertInto('log')
    .values(rows.map((r) => ({ ...r, at })))
    .execute();
  return { desktop: before, released, sessionState };
}

async function endSessions(tx: Tx, desktopId: number, at: Date): Promise<void> {
  await tx
    .updateTable('desktopSession')
    .set({ state: 'ended', endedAt: at, updatedAt: at })
    .where('desktopId', '=', desktopId)
    .where('state', '<>', 'ended')
    .where('deletedAt', 'is', null)
    .execute();
}

/** Moves the open session to `state`; opens one for `user` when there is none (reconnect after a restart). */
async function setSessionState(
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
