/**
 * The built-in job bodies against PostgreSQL: the guide's "Removing Deleted Database
 * Records" rules one by one, desktop availability from agent heartbeats, and gateway checks
 * against a real gateway's control API.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGatewayControl } from '../../functions/adapters/gateway/gateway-client.ts';
import { createLogger } from '../../functions/adapters/logger.ts';
import { SqlClusterStore } from '../../functions/adapters/site-db/cluster-store.ts';
import { SqlMaintenanceStore } from '../../functions/adapters/site-db/maintenance-store.ts';
import { ensureSchema } from '../../functions/adapters/site-db/migrate.ts';
import { jobBodies } from '../../functions/core/jobs/bodies.ts';
import type { JobBodies } from '../../functions/core/jobs/runner.ts';
import { loadGatewayConfig } from '../../functions/gateway/config.ts';
import {
  GATEWAY_VERSION,
  type RunningGateway,
  startGateway,
} from '../../functions/gateway/gateway.ts';
import { openTestSiteDatabase, type TestSiteDatabase } from '../helpers/site-databases.ts';

const SECRET = 'jobs-test-gateway-secret-0123';
const silent = { info() {}, warn() {}, error() {} };
const context = { siteId: 1, idempotencyKey: 'k', attempt: 1, logger: silent };

let t: TestSiteDatabase;
let bodies: JobBodies;
let gateway: RunningGateway;

/** Runs SQL on the test database. */
const exec = (query: ReturnType<typeof sql>) => query.execute(t.site.db);
const ids = async (table: string) =>
  (
    await sql<{ id: number }>`select id from ${sql.table(table)} order by id`.execute(t.site.db)
  ).rows.map((r) => r.id);

beforeAll(async () => {
  t = await openTestSiteDatabase('postgres');
  await ensureSchema(t.site.db, { createIfEmpty: true, upgrade: false });
  gateway = await startGateway(
    loadGatewayConfig({
      GATEWAY_NAME: 'gw-up',
      GATEWAY_SECRET: SECRET,
      GATEWAY_BIND: '127.0.0.1',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_HTTP_BIND: '127.0.0.1',
      GATEWAY_CONTROL_PORT: '0',
      LOG_LEVEL: 'SILENT',
    }),
    { logger: createLogger('gateway', 'SILENT') },
  );
  bodies = jobBodies({
    self: { siteId: 1, uuid: 'u', name: 'b', address: '127.0.0.1', version: 'v' },
    cluster: new SqlClusterStore(t.site.db),
    maintenance: new SqlMaintenanceStore(t.site.db),
    clock: { now: () => Date.now() },
    gateways: new HttpGatewayControl({ secret: SECRET, timeoutMs: 1000 }),
    gatewayTimeoutMs: 1500,
  });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await t?.close();
});

describe('purge_records', () => {
  it('removes log rows after the retention days (default 30, or as set)', async () => {
    await exec(sql`insert into log (at, event) values
      (now() - interval '31 days', 'old'), (now() - interval '29 days', 'recent'),
      (now() - interval '12 days', 'twelve')`);

    await bodies.purge_records({ kind: 'purge_records' }, context);
    const after30 = await sql<{ event: string }>`select event from log order by id`.execute(
      t.site.db,
    );
    await exec(
      sql`insert into setting (key, value) values ('logRetentionDays', cast('10' as jsonb))`,
    );
    await bodies.purge_records({ kind: 'purge_records' }, context);
    const after10 = await sql<{ event: string }>`select event from log order by id`.execute(
      t.site.db,
    );
    await exec(sql`delete from setting where key = 'logRetentionDays'`);

    expect(after30.rows.map((r) => r.event)).toEqual(['recent', 'twelve']);
    expect(after10.rows.map((r) => r.event)).toEqual([]);
  });

  it('removes records deleted more than 90 days plus the retention ago, unless still referenced', async () => {
    await exec(sql`insert into pool (id, name, deleted_at) values
      (101, 'gone', now() - interval '121 days'), (102, 'young', now() - interval '119 days'),
      (103, 'live', null), (104, 'held', now() - interval '200 days')`);
    await exec(sql`insert into desktop (id, name, pool_id, address, deleted_at) values
      (201, 'd-gone', 101, '10.0.0.1', now() - interval '130 days'),
      (202, 'd-held', 104, '10.0.0.2', now() - interval '130 days')`);
    // d-held still has a session row: it (and its pool) stay until that row is purged.
    await exec(
      sql`insert into desktop_session (desktop_id, user_name, state) values (202, 'ann', 'ended')`,
    );
    await exec(sql`insert into role (id, name, is_admin, deleted_at) values
      (301, 'old-role', false, now() - interval '121 days')`);

    await bodies.purge_records({ kind: 'purge_records' }, context);

    expect(await ids('pool')).toEqual([102, 103, 104]);
    expect(await ids('desktop')).toEqual([202]);
    expect(await ids('role')).toEqual([]);
  });

  it('removes completed work_queue rows after seven days, never pending ones', async () => {
    await exec(sql`insert into work_queue (id, kind, status, finished_at, created_at) values
      (401, 'refresh_pool', 'finished', now() - interval '8 days', now() - interval '8 days'),
      (402, 'refresh_pool', 'aborted', now() - interval '8 days', now() - interval '8 days'),
      (403, 'refresh_pool', 'finished', now() - interval '6 days', now() - interval '6 days'),
      (404, 'refresh_pool', 'pending', null, now() - interval '30 days')`);

    await bodies.purge_records({ kind: 'purge_records' }, context);

    expect(await ids('work_queue')).toEqual([403, 404]);
  });

  it('removes deleted gateway forwards after two days and deleted user sessions after seven', async () => {
    await exec(sql`insert into gateway (id, name, address, public_address, control_url, port_from, port_to)
      values (501, 'gw-p', '10.0.0.9', 'gw', 'http://127.0.0.1:1', 20001, 20010)`);
    await exec(
      sql`insert into desktop (id, name, pool_id, address) values (502, 'd-live', 103, '10.0.0.3')`,
    );
    await exec(sql`insert into gateway_forward (id, gateway_id, gateway_name, desktop_id, user_name, client_ip, listen_port,
        desktop_host, desktop_port, forward_key, expires_at, deleted_at) values
      (601, 501, 'gw-p', 502, 'ann', '1.2.3.4', 20001, '10.0.0.3', 3389, 'a', now(), now() - interval '3 days'),
      (602, 501, 'gw-p', 502, 'ann', '1.2.3.4', 20002, '10.0.0.3', 3389, 'b', now(), now() - interval '1 day'),
      (603, 501, 'gw-p', 502, 'ann', '1.2.3.4', 20003, '10.0.0.3', 3389, 'c', now() - interval '9 days', null)`);
    await exec(sql`insert into desktop_session (id, desktop_id, user_name, state, deleted_at) values
      (701, 502, 'ann', 'ended', now() - interval '8 days'),
      (702, 502, 'ann', 'ended', now() - interval '6 days')`);

    await bodies.purge_records({ kind: 'purge_records' }, context);

    expect(await ids('gateway_forward')).toEqual([602, 603]);
    expect((await ids('desktop_session')).filter((id) => id > 700)).toEqual([702]);
  });
});

describe('refresh_pool', () => {
  it('judges desktops with an agent key by their last heartbeat, and only those', async () => {
    await exec(sql`insert into pool (id, name) values (801, 'agents'), (802, 'other')`);
    await exec(sql`insert into desktop (id, name, pool_id, address, agent_key_hash, agent_seen_at, available) values
      (811, 'fresh', 801, '10.1.0.1', 'h1', now() - interval '10 seconds', false),
      (812, 'stale', 801, '10.1.0.2', 'h2', now() - interval '5 minutes', true),
      (813, 'never', 801, '10.1.0.3', 'h3', null, true),
      (814, 'no-agent', 801, '10.1.0.4', null, null, true),
      (815, 'other-stale', 802, '10.1.0.5', 'h5', now() - interval '5 minutes', true)`);
    const available = async () =>
      (
        await sql<{ name: string; available: boolean }>`
          select name, available from desktop where id between 811 and 815 order by id`.execute(
          t.site.db,
        )
      ).rows.map((r) => `${r.name}:${r.available}`);

    await bodies.refresh_pool({ kind: 'refresh_pool', pool: 'agents' }, context);
    const onePool = await available();
    await bodies.refresh_pool({ kind: 'refresh_pool' }, context);

    expect(onePool).toEqual([
      'fresh:true',
      'stale:false',
      'never:false',
      'no-agent:true',
      'other-stale:true',
    ]);
    expect(await available()).toContain('other-stale:false');
  });
});

describe('check_gateway', () => {
  it('marks an answering gateway up and a silent one down', async () => {
    await exec(sql`insert into gateway (id, name, address, public_address, control_url, port_from, port_to) values
      (901, 'gw-up', '127.0.0.1', 'gw', ${`http://127.0.0.1:${gateway.controlPort}`}, 20001, 20010),
      (902, 'gw-down', '127.0.0.1', 'gw', 'http://127.0.0.1:9', 20001, 20010)`);

    await bodies.check_gateway({ kind: 'check_gateway' }, context);
    const rows = await sql<{ name: string; status: string; checked: boolean }>`
      select name, status, checked_at > now() - interval '1 minute' as checked
      from gateway where id in (901, 902) order by id`.execute(t.site.db);

    expect(rows.rows).toEqual([
      { name: 'gw-up', status: 'up', checked: true },
      { name: 'gw-down', status: 'down', checked: true },
    ]);
  });

  it('warns when a gateway forwards on other ports than gateways[].portRange, and stores what it reported', async () => {
    const warnings: string[] = [];
    const logger = { ...silent, warn: (message: string) => void warnings.push(message) };
    const reported = async () =>
      (
        await sql<{ from: number | null; to: number | null; version: string | null }>`
          select reported_port_from as from, reported_port_to as to, reported_version as version
          from gateway where id = 901`.execute(t.site.db)
      ).rows[0];

    // gw-up runs with the default GATEWAY_PORT_RANGE, 20001-23000; the site says 20001-20010.
    await bodies.check_gateway({ kind: 'check_gateway', gateway: 'gw-up' }, { ...context, logger });
    const disagreeing = { warnings: [...warnings], reported: await reported() };
    warnings.length = 0;
    await exec(sql`update gateway set port_to = 23000 where id = 901`);
    await bodies.check_gateway({ kind: 'check_gateway', gateway: 'gw-up' }, { ...context, logger });

    expect(disagreeing.warnings).toEqual([
      'gateway "gw-up" forwards on ports 20001-23000 (its GATEWAY_PORT_RANGE), but the site configuration says 20001-20010 (gateways[].portRange): clients may be refused on the ports outside the configured range; make the two agree',
    ]);
    expect(disagreeing.reported).toEqual({ from: 20001, to: 23000, version: GATEWAY_VERSION });
    expect(warnings).toEqual([]);
  });
});
