/**
 * Keyset paging for the admin views: one row more than the page is read to know whether
 * another page follows, and the last row shown is where the next page starts, so a page
 * costs the same on the first page and the thousandth. Time positions are epoch
 * microseconds as exact text (PostgreSQL keeps microseconds; a JavaScript Date would not).
 */
import { sql } from 'kysely';
import type { Page } from '../../core/admin/ports.ts';

/** Epoch microseconds of a timestamp column, as exact text (a cursor position). */
export const micros = (column: string) =>
  sql<string>`cast(cast(extract(epoch from ${sql.ref(column)}) * 1000000 as bigint) as text)`;

/** The timestamp of a position's epoch microseconds. */
export const fromMicros = (at: string) =>
  sql`(timestamptz 'epoch' + cast(${at} as bigint) * interval '1 microsecond')`;

export const time = (d: Date | null) => (d === null ? null : d.getTime());

/** Cuts the extra row read past the page; the position of the last row shown is the next one's start. */
export function paged<R, T, P>(
  rows: readonly R[],
  limit: number,
  map: (r: R) => T,
  position: (r: R) => P,
): Page<T, P> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: shown.map(map),
    next: rows.length > limit && last !== undefined ? position(last) : undefined,
  };
}
