/**
 * A heartbeat period fixed by the runtime (HEARTBEAT_SECONDS, which the CDK app sets from the
 * EventBridge schedule of the heartbeat job): the cluster view judges brokers by it, the
 * broker beats on it, and a site configuration whose `settings.heartbeatSeconds` differs is
 * refused with a message, while one that leaves it out takes the runtime's. Without the
 * variable (the local default) the site setting rules, as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { request } from '../helpers/http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';

describe('heartbeat fixed by the runtime', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let token: string;
  const apply = (settings?: Record<string, unknown>) =>
    request(`${broker.url}/api/v1/admin/config`, {
      method: 'PUT',
      token,
      body: { roles: [{ name: 'User' }], ...(settings ? { settings } : {}) },
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    broker = await startTestBroker({
      dbUrl: database.url,
      env: { HEARTBEAT_SECONDS: '60' },
      local: { demo: false },
    });
    token = await broker.adminToken();
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await database?.drop();
  });

  it('judges the cluster by the runtime’s period, not the site setting’s default', async () => {
    const cluster = await request(`${broker.url}/api/v1/admin/cluster`, { token });

    expect(cluster.status).toBe(200);
    expect(cluster.body).toMatchObject({
      heartbeatSeconds: 60,
      heartbeatSource: 'runtime schedule',
    });
    expect(cluster.body.brokers[0].status).toBe('Running');
  });

  it('beats on the runtime’s period', async () => {
    await expect
      .poll(
        async () =>
          (
            await request(`${broker.url}/api/v1/admin/jobs?kind=heartbeat`, { token })
          ).body.jobs?.map((j: { idempotencyKey: string }) => j.idempotencyKey) ?? [],
        { timeout: 10_000 },
      )
      .toEqual(expect.arrayContaining([expect.stringMatching(/^heartbeat:site-1:60:\d+$/)]));
  });

  it('refuses a heartbeatSeconds it cannot honour, and says why', async () => {
    const refused = await apply({ heartbeatSeconds: 20 });

    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_config');
    expect(refused.body.message).toBe(
      "settings.heartbeatSeconds: 20 cannot be honoured here: this deployment's heartbeat runs every 60 s (its EventBridge schedule, HEARTBEAT_SECONDS); give 60 or leave it out",
    );
  });

  it('gives the runtime’s period to a file that leaves it out, and accepts the same value', async () => {
    expect((await apply()).status).toBe(200);
    const exported = await request(`${broker.url}/api/v1/admin/config`, { token });
    expect(exported.body.settings.heartbeatSeconds).toBe(60);

    const same = await apply({ heartbeatSeconds: 60 });
    expect(same.status).toBe(200);
    expect(same.body.changed).toBe(false);
  });
});
