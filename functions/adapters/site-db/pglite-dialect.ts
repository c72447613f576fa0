/**
 * The embedded PGlite dialect (connect.ts loads it for the local runtime's site database), with
 * every statement counted as a round trip.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely';
import type { DatabaseTarget } from '../../config.ts';
import { countSqlRoundTrip } from '../meter.ts';

/** The dialect of a PGlite target, its statements counted into `stats`. */
export async function pgliteDialect(
  target: Extract<DatabaseTarget, { kind: 'pglite' }>,
  stats: { roundTrips: number },
): Promise<PGliteDialect> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { mkdirSync } = await import('node:fs');
  const dataDir = target.path === ':memory:' ? undefined : target.path;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return new PGliteDialect({
    pglite: async () =>
      meterPglite(
        await PGlite.create({ dataDir, parsers: { 20: (v: string) => Number(v) } }),
        stats,
      ),
  });
}

/**
 * Counts an embedded PGlite's statements as round trips, as a server's would be: each query
 * or exec, and a transaction's BEGIN, its statements and its COMMIT or ROLLBACK. (PGlite's
 * protocol layer takes several calls per statement, so it is counted a level above.)
 */
function meterPglite(pglite: PGlite, stats: { roundTrips: number }): PGlite {
  const counted = <F extends (...args: never[]) => unknown>(fn: F, self: object): F =>
    ((...args: Parameters<F>) => {
      countSqlRoundTrip(stats);
      return fn.apply(self, args);
    }) as F;
  const metered = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop);
        return (prop === 'query' || prop === 'exec' || prop === 'sql') &&
          typeof value === 'function'
          ? counted(value as (...args: never[]) => unknown, target)
          : value;
      },
    });
  const { transaction } = pglite;
  pglite.query = counted(pglite.query, pglite);
  pglite.exec = counted(pglite.exec, pglite);
  pglite.sql = counted(pglite.sql, pglite);
  pglite.transaction = async <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> => {
    countSqlRoundTrip(stats); // BEGIN
    try {
      return (await transaction.call(pglite, (tx: Transaction) => callback(metered(tx)))) as T;
    } finally {
      countSqlRoundTrip(stats); // COMMIT or ROLLBACK
    }
  };
  return pglite;
}
