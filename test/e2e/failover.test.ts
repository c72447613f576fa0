/**
 * A broker with a failover database (SECONDARY_DB_URL), started while its primary database is
 * down: it runs on the secondary, serves logins, and says so in cb_status and the cluster
 * view. The choice is kept in the shared state table, so after the primary is back a
 * restarted broker stays on the secondary, as the guide says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../functions/local/embedded-dynamo.ts';
import { jsonOf, startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

let primary: TestDatabase;
let secondary: TestDatabase;
let proxy: TcpProxy;
let dynamo: EmbeddedDynamo;
let primaryUrl: string;

const start = () =>
  startTestBroker({
    dbUrl: primaryUrl,
    env: {
      SECONDARY_DB_URL: secondary.url,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      DB_STATEMENT_TIMEOUT_MS: '2000',
    },
    local: { demo: false },
  });

const login = (broker: TestBroker, username: string, password: string) =>
  broker.fetch('/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });

beforeAll(async () => {
  [primary, secondary] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  const url = new URL(primary.url);
  url.host = `127.0.0.1:${proxy.port}`;
  primaryUrl = url.toString();
  dynamo = await startEmbeddedDynamo();
  // The site on the primary, with the demo data; the operator keeps the secondary in sync
  // (here: a copy made with `db switch --copy` from the primary).
  const first = await startTestBroker({ dbUrl: primary.url });
  await first.stop();
  const copied = await runCli([
    'db',
    'switch',
    '--db',
    primary.url,
    '--to',
    secondary.url,
    '--copy',
  ]);
  if (copied.code !== 0) throw new Error(copied.stderr);
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await dynamo?.close();
  await primary?.drop();
  await secondary?.drop();
});

describe('a broker with a failover database', () => {
  it('starts on the secondary while the primary is down and serves logins', async () => {
    await proxy.cut('refuse');
    const broker = await start();
    try {
      const alice = await login(broker, 'alice', 'alice-demo-pass');
      const token = await broker.adminToken();
      const status = await broker.fetch('/index.pl?action=cb_status');
      const cluster = await broker.fetch('/api/v1/admin/cluster', {
        headers: { authorization: `Bearer ${token}` },
      });

      expect(alice.status).toBe(200);
      expect((await jsonOf(alice)).user.name).toBe('alice');
      // By role only: the address is for the cluster view, behind an administrator sign-in.
      expect(await status.text()).toBe('CB_IS_OKAY\nactive database: secondary');
      expect((await jsonOf(cluster)).database).toMatchObject({
        active: 'secondary',
        secondaryConfigured: true,
      });
    } finally {
      await broker.stop();
    }
  }, 60_000);

  it('stays on the secondary after the primary is back, across a restart', async () => {
    await proxy.restore();
    const broker = await start();
    try {
      const status = await broker.fetch('/index.pl?action=cb_status');
      const bob = await login(broker, 'bob', 'bob-demo-pass');

      expect(await status.text()).toMatch(/active database: secondary/);
      expect(bob.status).toBe(200);
    } finally {
      await broker.stop();
    }
  }, 60_000);
});
