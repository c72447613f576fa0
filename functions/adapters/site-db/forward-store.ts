/**
 * Gateway forwards in the site database (`gateway_forward`): what each gateway should hold
 * open, so a restarted gateway can re-open them. Closing is a soft delete; the purge removes
 * closed rows after two days (the guide's rule for gateway_forward).
 */
import { type Selectable, sql } from 'kysely';
import type { ForwardRecord, ForwardStore } from '../../core/gateways/ports.ts';
import type { SiteDb } from './connect.ts';
import type { GatewayForwardTable } from './schema.ts';

/** The columns a forward record is read from, the gateway's name joined in. */
const COLUMNS = [
  'f.gatewayId',
  'g.name as gateway',
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

  async record(forwards: readonly ForwardRecord[]): Promise<void> {
    if (forwards.length === 0) return;
    await this.#db
      .insertInto('gatewayForward')
      .values(forwards.map((f) => forwardRow(f)))
      .execute();
  }

  async closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]> {
    const rows = await this.#db
      .updateTable('gatewayForward as f')
      .from('gateway as g')
      .set({ deletedAt: sql`now()` })
      .whereRef('g.id', '=', 'f.gatewayId')
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
      .innerJoin('gateway as g', 'g.id', 'f.gatewayId')
      .select(COLUMNS)
      .where(sql<boolean>`lower(g.name) = lower(${gateway})`)
      .where('g.deletedAt', 'is', null)
      .where('f.deletedAt', 'is', null)
      .where('f.expiresAt', '>', new Date(now))
      .orderBy('f.id')
      .execute();
    return rows.map(toRecord);
  }
}
