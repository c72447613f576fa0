/**
 * The admin console's activity views of the site database: registered clients, gateways
 * with their state and forwards, and the log (newest first for the list, oldest first for
 * the export). Lists are keyset-paged (`admin-paging.ts`).
 */
import { sql } from 'kysely';
import type {
  ActivityViews,
  AdminClient,
  AdminGateway,
  LogFilter,
  LogRow,
  Page,
  PageRequest,
  TimePosition,
} from '../../core/admin/ports.ts';
import { fromMicros, micros, paged, time } from './admin-paging.ts';
import type { SiteDb } from './connect.ts';

export class SqlActivityViews implements ActivityViews {
  readonly #db: SiteDb;

  constructor(db: SiteDb) {
    this.#db = db;
  }

  async clients(
    filter: { user?: string },
    page: PageRequest<TimePosition>,
  ): Promise<Page<AdminClient, TimePosition>> {
    const rows = await this.#db
      .selectFrom('client as c')
      .select([
        'c.id',
        'c.name',
        'c.ip',
        'c.loginGateway',
        'c.attributes',
        'c.lastUser',
        'c.firstSeenAt',
        'c.lastSeenAt',
        micros('c.last_seen_at').as('atKey'),
      ])
      .$if(filter.user !== undefined, (q) =>
        q.where(sql`lower(c.last_user)`, '=', sql`lower(${filter.user})`),
      )
      .$if(page.after !== undefined, (q) =>
        q.where(
          sql`(c.last_seen_at, c.id)`,
          '<',
          sql`(${fromMicros(page.after!.at)}, ${page.after!.id})`,
        ),
      )
      .orderBy('c.lastSeenAt', 'desc')
      .orderBy('c.id', 'desc')
      .limit(page.limit + 1)
      .execute();
    return paged(
      rows,
      page.limit,
      (r): AdminClient => ({
        id: r.id,
        name: r.name,
        address: r.ip,
        loginGateway: r.loginGateway,
        attributes: r.attributes,
        lastUser: r.lastUser,
        firstSeenAt: r.firstSeenAt.getTime(),
        lastSeenAt: r.lastSeenAt.getTime(),
      }),
      (r) => ({ at: r.atKey, id: r.id }),
    );
  }

  async gateways(page: PageRequest<string>, now: number): Promise<Page<AdminGateway, string>> {
    const rows = await this.#db
      .selectFrom('gateway as g')
      .select((eb) => [
        'g.id',
        'g.name',
        'g.address',
        'g.publicAddress',
        'g.controlUrl',
        'g.portFrom',
        'g.portTo',
        'g.status',
        'g.statusSince',
        'g.checkedAt',
        'g.reportedVersion',
        'g.reportedPortFrom',
        'g.reportedPortTo',
        eb
          .selectFrom('gatewayForward as f')
          .select(sql<number>`cast(count(*) as int)`.as('n'))
          .whereRef('f.gatewayId', '=', 'g.id')
          .where('f.deletedAt', 'is', null)
          .where('f.expiresAt', '>', new Date(now))
          .as('forwardsOpen'),
      ])
      .where('g.deletedAt', 'is', null)
      .$if(page.after !== undefined, (q) => q.where('g.name', '>', page.after!))
      .orderBy('g.name')
      .limit(page.limit + 1)
      .execute();
    const ids = rows.map((r) => r.id);
    const members =
      ids.length === 0
        ? []
        : await this.#db
            .selectFrom('gatewayClusterMember as m')
            .innerJoin('gatewayCluster as c', 'c.id', 'm.clusterId')
            .select(['m.gatewayId', 'c.name'])
            .where('c.deletedAt', 'is', null)
            .where('m.gatewayId', 'in', ids)
            .orderBy('c.name')
            .execute();
    return paged(
      rows,
      page.limit,
      (r): AdminGateway => ({
        name: r.name,
        address: r.address,
        publicAddress: r.publicAddress,
        controlUrl: r.controlUrl,
        portRange: [r.portFrom, r.portTo],
        status: r.status,
        statusSince: time(r.statusSince),
        checkedAt: time(r.checkedAt),
        reported:
          r.reportedVersion === null && r.reportedPortFrom === null
            ? null
            : {
                version: r.reportedVersion,
                portRange:
                  r.reportedPortFrom === null || r.reportedPortTo === null
                    ? null
                    : [r.reportedPortFrom, r.reportedPortTo],
              },
        forwardsOpen: Number(r.forwardsOpen ?? 0),
        clusters: members.filter((m) => m.gatewayId === r.id).map((m) => m.name),
      }),
      (r) => r.name,
    );
  }

  async forwardsOnRegistered(names: readonly string[], now: number): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('gatewayForward')
      .select([
        sql<string>`lower(gateway_name)`.as('name'),
        sql<number>`cast(count(*) as int)`.as('n'),
      ])
      .where('gatewayId', 'is', null)
      .where('deletedAt', 'is', null)
      .where('expiresAt', '>', new Date(now))
      .where(
        sql`lower(gateway_name)`,
        'in',
        names.map((n) => n.toLowerCase()),
      )
      .groupBy(sql`lower(gateway_name)`)
      .execute();
    return new Map(rows.map((r) => [r.name, Number(r.n)]));
  }

  async log(
    filter: LogFilter,
    page: PageRequest<TimePosition> & { order: 'newest' | 'oldest' },
  ): Promise<Page<LogRow, TimePosition>> {
    const newest = page.order === 'newest';
    const direction = newest ? 'desc' : 'asc';
    const rows = await this.#db
      .selectFrom('log as l')
      .leftJoin('desktop as d', 'd.id', 'l.desktopId')
      .select([
        'l.id',
        'l.at',
        micros('l.at').as('atKey'),
        'l.event',
        'l.userName',
        'l.desktopId',
        'd.name as desktop',
        'l.clientIp',
        'l.siteId',
        'l.detail',
      ])
      .$if(filter.user !== undefined, (q) =>
        q.where(sql`lower(l.user_name)`, '=', sql`lower(${filter.user})`),
      )
      .$if(filter.event !== undefined, (q) => q.where('l.event', '=', filter.event!))
      .$if(filter.from !== undefined, (q) => q.where('l.at', '>=', new Date(filter.from!)))
      .$if(filter.to !== undefined, (q) => q.where('l.at', '<', new Date(filter.to!)))
      .$if(page.after !== undefined, (q) =>
        q.where(
          sql`(l.at, l.id)`,
          newest ? '<' : '>',
          sql`(${fromMicros(page.after!.at)}, ${page.after!.id})`,
        ),
      )
      .orderBy('l.at', direction)
      .orderBy('l.id', direction)
      .limit(page.limit + 1)
      .execute();
    return paged(
      rows,
      page.limit,
      (r): LogRow => ({
        id: r.id,
        at: r.at.getTime(),
        event: r.event,
        user: r.userName,
        desktopId: r.desktopId,
        desktop: r.desktop,
        clientIp: r.clientIp,
        siteId: r.siteId,
        detail: r.detail,
        position: { at: r.atKey, id: r.id },
      }),
      (r) => ({ at: r.atKey, id: r.id }),
    );
  }
}
