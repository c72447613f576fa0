/**
 * The kinds of failure health answers and 503s may name, read from real errors' codes.
 */
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { failureKind } from '../../functions/adapters/failure-kind.ts';
import { classifyDatabaseError } from '../../functions/adapters/site-db/connect.ts';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { ProbeFailure } from '../../functions/core/health.ts';

/** The error a real connect to a closed port gives. */
async function refusedError(): Promise<unknown> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'nobody' });
  return client.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('failureKind', () => {
  it('reads a refused connection through our wrappers', async () => {
    const e = await refusedError();
    expect(failureKind(e)).toBe('connection_refused');
    expect(failureKind(new DatabaseUnavailableError('x', new Error('y', { cause: e })))).toBe(
      'connection_refused',
    );
  });

  it('reads PostgreSQL SQLSTATEs, AWS SDK and ldapts error names', () => {
    const withCode = (code: string) => Object.assign(new Error('…'), { code });
    const named = (name: string) => Object.assign(new Error('…'), { name });
    expect(failureKind(withCode('28P01'))).toBe('login_rejected');
    expect(failureKind(withCode('3D000'))).toBe('no_such_database');
    expect(failureKind(withCode('57P03'))).toBe('starting_up');
    expect(failureKind(withCode('42P01'))).toBe('query_failed');
    expect(failureKind(withCode('ENOTFOUND'))).toBe('name_not_resolved');
    expect(failureKind(named('DatabaseResumingException'))).toBe('starting_up');
    expect(failureKind(named('InvalidCredentialsError'))).toBe('login_rejected');
    expect(failureKind(new ProbeFailure('timeout'))).toBe('timeout');
    expect(failureKind(new Error('something odd'))).toBe('unknown');
  });
});

describe('a database outage as callers see it (503)', () => {
  it('says "site database" and the kind of failure; the address stays in the cause, for the log', async () => {
    const target = { kind: 'postgres', url: 'postgres://broker:pw@db.internal:6543/site' } as const;
    const e = classifyDatabaseError(await refusedError(), target) as DatabaseUnavailableError;
    expect(e).toBeInstanceOf(DatabaseUnavailableError);
    expect(e.message).toBe('the site database is not reachable (connection refused)');
    expect(String((e.cause as Error).message)).toContain('db.internal:6543');
    expect(String((e.cause as Error).message)).not.toContain('pw');
  });
});
