/**
 * Gateway forwards in the site database (`gateway_forward`): what each gateway should hold
 * open, so a restarted gateway can re-open them. Each row names its gateway; a fixed gateway's
 * rows also carry its id (registered gateways have no row in `gateway`). Closing is a soft
 * delete; the purge removes closed rows after two days (the guide's rule for gateway_forward).
 */
import { type Selectable, sql } from 'kysely';
import type { ForwardRecord, ForwardStore } from '../../core/gateways/ports.ts';
import type { SiteDb } from './connect.ts';
import type { GatewayForwardTable } from './schema.ts';

/** The columns a forward record is read from, the gateway's name joined in. */
const COLUMNS = [
  'f.gatewayId',
  'f.gatewayName as gateway',
  'f.desktopId',
  'f.userName',
  'f.clientIp',
  'f.listenPort',
  'f.desktopHost',
  'f.desktopPort',
  'f.forwardKey',
  'f.expiresAt',
] as const;

type Row = Pick<
  Selectable<GatewayForwardTable>,
  | 'gatewayId'
  | 'desktopId'
  | 'userName'
  | 'clientIp'
  | 'listenPort'
  | 'desktopHost'
  | 'desktopPort'
  | 'forwardKey'
  | 'expiresAt'
> & { gateway: string };

const toRecord = (r: Row): ForwardRecord => ({
  gatewayId: r.gatewayId,
  gateway: r.gateway,
  desktopId: r.desktopId,
  user: r.userName,
  clientIp: r.clientIp,
  listenPort: r.listenPort,
  desktopHost: r.desktopHost,
  desktopPort: r.desktopPort,
  key: r.forwardKey,
  expiresAt: r.expiresAt.getTime(),
});

/** The row of a forward (the outbox replay writes leased-mode forwards with it too). */
export function forwardRow(f: ForwardRecord, openedAt?: Date) {
  return {
    gatewayId: f.gatewayId,
    gatewayName: f.gateway,
    desktopId: f.desktopId,
    userName: f.user,
    clientIp: f.clientIp,
    listenPort: f.listenPort,
    desktopHost: f.desktopHost,
    desktopPort: f.desktopPort,
    forwardKey: f.key,
    expiresAt: new Date(f.expiresAt),
    ...(openedAt ? { openedAt } : {}),
  };
}

export class SqlForwardStore implements ForwardStore {
  readonly #db: SiteDb;
  constructor(db: SiteDb) {
    this.#db = db;
  }

  async record(
    forwards: readonly ForwardRecord[],
    replacing?: { user: string; desktopId: number; live: readonly string[] },
  ): Promise<void> {
    if (forwards.length === 0) return;
    const insert = (db: SiteDb) =>
      db.insertInto('gatewayForward').values(forwards.map((f) => forwardRow(f)));
    if (!replacing) {
      await insert(this.#db).execute();
      return;
    }
    // One statement: the insert, and the closing of what it replaces.
    const live = replacing.live.map((n) => n.toLowerCase());
    await this.#db
      .with('replaced', (db) =>
        db
          .updateTable('gatewayForward')
          .set({ deletedAt: sql`now()` })
          .where('deletedAt', 'is', null)
          .where('gatewayId', 'is', null)
          .where('desktopId', '=', replacing.desktopId)
          .where(sql<boolean>`lower(user_name) = lower(${replacing.user})`)
          .$if(live.length > 0, (q) => q.where(sql<string>`lower(gateway_name)`, 'not in', live))
          .returning('id'),
      )
      .insertInto('gatewayForward')
      .values(forwards.map((f) => forwardRow(f)))
      .execute();
  }

  async closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]> {
    const rows = await this.#db
      .updateTable('gatewayForward as f')
      .set({ deletedAt: sql`now()` })
      .where('f.deletedAt', 'is', null)
      .where(sql<boolean>`lower(f.user_name) = lower(${user})`)
      .$if(desktopId !== undefined, (q) => q.where('f.desktopId', '=', desktopId!))
      .returning(COLUMNS)
      .execute();
    return rows.map(toRecord);
  }

  async liveForGateway(gateway: string, now: number): Promise<ForwardRecord[]> {
    const rows = await this.#db
      .selectFrom('gatewayForward as f')
      .leftJoin('gateway as g', 'g.id', 'f.gatewayId')
      .select(COLUMNS)
      .where(sql<boolean>`lower(f.gateway_name) = lower(${gateway})`)
      // A fixed gateway removed from the configuration holds nothing any more.
      .where((eb) => eb.or([eb('f.gatewayId', 'is', null), eb('g.deletedAt', 'is', null)]))
      .where('f.deletedAt', 'is', null)
      .where('f.expiresAt', '>', new Date(now))
      .orderBy('f.id')
      .execute();
    return rows.map(toRecord);
  }
}
