/**
 * The three ways to reach a site database, for suites that must pass on each:
 * PGlite (embedded), PostgreSQL through `pg`, and the RDS Data API (through the stand-in
 * over PostgreSQL in ./data-api-server.ts).
 */

import { openSiteDatabase, type SiteDatabase } from '../../functions/adapters/site-db/connect.ts';
import type { DatabaseTarget } from '../../functions/config.ts';
import { startDataApiServer } from './data-api-server.ts';
import { createTestDatabase } from './pg.ts';

export const DIALECTS = ['pglite', 'postgres', 'data-api'] as const;
export type DialectName = (typeof DIALECTS)[number];

export interface TestSiteDatabase {
  readonly site: SiteDatabase;
  readonly target: DatabaseTarget;
  close(): Promise<void>;
}

export async function openTestSiteDatabase(dialect: DialectName): Promise<TestSiteDatabase> {
  const cleanups: (() => Promise<void>)[] = [];
  let target: DatabaseTarget;
  if (dialect === 'pglite') {
    target = { kind: 'pglite', path: ':memory:' };
  } else {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    if (dialect === 'postgres') {
      target = { kind: 'postgres', url: database.url };
    } else {
      const server = await startDataApiServer({ connectionString: database.url });
      cleanups.push(() => server.close());
      target = {
        kind: 'data-api',
        clusterArn: 'arn:aws:rds:us-east-1:123456789012:cluster:deskbroker-test',
        secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:deskbroker-test',
        database: database.name,
        region: 'us-east-1',
        endpoint: server.endpoint,
      };
    }
  }
  const site = await openSiteDatabase(target, { statementTimeoutMs: 10_000 });
  return {
    site,
    target,
    async close() {
      await site.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
