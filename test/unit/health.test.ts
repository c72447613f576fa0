import { describe, expect, it } from 'vitest';
import type { HealthProbes } from '../../functions/core/health.ts';
import { cbStatus, isAlive, ProbeFailure } from '../../functions/core/health.ts';
import type { AuthServerConfig } from '../../functions/core/site-config/schema.ts';

const ldap = (name: string) =>
  ({ name, type: 'ldap', enabled: true, url: 'ldap://x', userBase: 'dc=x' }) as AuthServerConfig;

/** In-memory probes: every dependency healthy unless the test says otherwise. */
function probes(overrides: Partial<HealthProbes> = {}): HealthProbes {
  return {
    pingDatabase: async () => {},
    enabledAuthServers: async () => [{ name: 'local', type: 'local', enabled: true }, ldap('corp')],
    probeAuthServer: async () => {},
    loadAverage: () => 0.5,
    ...overrides,
  };
}
const limits = { maxLoad: 4, timeoutMs: 100 };

describe('is_alive', () => {
  it('is okay when database, auth servers and load are fine', async () => {
    expect(await isAlive(probes(), limits)).toEqual({ ok: true, reasons: [], details: [] });
  });

  it('fails when the database is down', async () => {
    const verdict = await isAlive(
      probes({ pingDatabase: async () => Promise.reject(new Error('ECONNREFUSED')) }),
      limits,
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons[0]).toMatch(/^site database is not reachable/);
  });

  it('fails fast when the database hangs', async () => {
    const started = Date.now();
    const verdict = await isAlive(probes({ pingDatabase: () => new Promise(() => {}) }), limits);
    expect(verdict.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails when one authentication server is unreachable and names it, with the kind of failure only', async () => {
    const verdict = await isAlive(
      probes({
        enabledAuthServers: async () => [ldap('corp'), ldap('branch')],
        probeAuthServer: async (s) => {
          if (s.name === 'branch')
            throw new ProbeFailure(
              'connection_refused',
              new Error('connect ECONNREFUSED 10.1.2.3:389'),
            );
        },
      }),
      limits,
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons).toEqual([
      'authentication server "branch" is not reachable (connection refused)',
    ]);
    expect(verdict.details).toEqual([
      'authentication server "branch" is not reachable: connection refused: connect ECONNREFUSED 10.1.2.3:389',
    ]);
  });

  it('never repeats what a probe threw in its reasons, only in the details for the log', async () => {
    const leak = new Error('password authentication failed for user "broker" at db.internal:5432');
    const verdict = await isAlive(
      probes({ pingDatabase: async () => Promise.reject(leak) }),
      limits,
    );
    expect(verdict.reasons).toEqual(['site database is not reachable (unexpected error)']);
    expect(verdict.details[0]).toContain('db.internal:5432');
  });

  it('names a timeout as such', async () => {
    const verdict = await isAlive(probes({ pingDatabase: () => new Promise(() => {}) }), limits);
    expect(verdict.reasons).toEqual(['site database is not reachable (no answer in time)']);
  });

  it('fails when the load is over the limit, and not at it', async () => {
    expect((await isAlive(probes({ loadAverage: () => 4 }), limits)).ok).toBe(true);
    const over = await isAlive(probes({ loadAverage: () => 4.01 }), limits);
    expect(over).toEqual({ ok: false, reasons: ['load average 4.01 is above 4'], details: [] });
  });
});

describe('cb_status', () => {
  it('looks only at the database', async () => {
    const down = probes({
      pingDatabase: async () => Promise.reject(new Error('gone')),
      loadAverage: () => 99,
    });
    expect((await cbStatus(probes({ loadAverage: () => 99 }), limits)).ok).toBe(true);
    expect(await cbStatus(down, limits)).toEqual({
      ok: false,
      reasons: ['site database is not reachable (unexpected error)'],
      details: ['site database is not reachable: gone'],
    });
  });
});
