/**
 * Copies a whole site database into another, empty one (`deskbroker db switch --copy`):
 * every table of the schema except the migration bookkeeping, parents before children, in
 * one transaction on the target, then the sequences, then a row count per table.
 */
import { type Kysely, sql } from 'kysely';
import type { SiteDb } from './connect.ts';
import { jsonb } from './schema.ts';

type Raw = Kysely<Record<string, Record<string, unknown>>>;

const raw = (db: SiteDb) => db.withoutPlugins() as unknown as Raw;

/** Tables of the migrator itself: the target's own migration writes them. */
const BOOKKEEPING = new Set(['schema_migration', 'schema_migration_lock']);

/** The site's tables, each after the tables it references. */
export async function siteTables(db: SiteDb): Promise<string[]> {
  const tables = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = current_schema()
    order by tablename`.execute(raw(db));
  const links = await sql<{ child: string; parent: string }>`
    select c.relname as child, p.relname as parent from pg_constraint k
    join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
    where k.contype = 'f' and k.connamespace = current_schema()::regnamespace`.execute(raw(db));
  const names = tables.rows.map((t) => t.name).filter((n) => !BOOKKEEPING.has(n));
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const l of links.rows) if (l.child === name && l.parent !== name) visit(l.parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered;
}

/** Rows per table. */
export async function tableCounts(db: SiteDb, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
      raw(db),
    );
    counts[table] = Number(r.rows[0]?.n ?? 0);
  }
  return counts;
}

export interface CopyProgress {
  readonly table: string;
  /** 1-based position of the table. */
  readonly tableIndex: number;
  readonly tables: number;
  readonly copied: number;
  readonly total: number;
}

async function jsonColumns(db: Raw): Promise<Map<string, Set<string>>> {
  const r = await sql<{ table: string; column: string }>`
    select table_name as table, column_name as column from information_schema.columns
    where table_schema = current_schema() and data_type in ('jsonb', 'json')`.execute(db);
  const out = new Map<string, Set<string>>();
  for (const { table, column } of r.rows) {
    if (!out.has(table)) out.set(table, new Set());
    out.get(table)!.add(column);
  }
  return out;
}

/**
 * Copies every row of `tables` from `from` into `to`, all or nothing, and moves the target's
 * sequences past the copied ids. `onProgress` is called after each chunk.
 */
export async function copySite(
  from: SiteDb,
  to: SiteDb,
  tables: string[],
  onProgress: (p: CopyProgress) => void,
  chunkRows = 500,
): Promise<void> {
  const source = raw(from);
  const json = await jsonColumns(source);
  const total = Object.values(await tableCounts(from, tables)).reduce((a, b) => a + b, 0);
  let copied = 0;
  await raw(to)
    .transaction()
    .execute(async (tx) => {
      for (const [i, table] of tables.entries()) {
        const jsonCols = json.get(table) ?? new Set<string>();
        for (let offset = 0; ; offset += chunkRows) {
          const rows = await sql<Record<string, unknown>>`
          select * from ${sql.table(table)} order by ctid limit ${chunkRows} offset ${offset}`.execute(
            source,
          );
          if (rows.rows.length === 0) break;
          const columns = Object.keys(rows.rows[0]!);
          const values = rows.rows.map(
            (row) =>
              sql`(${sql.join(columns.map((c) => (jsonCols.has(c) && row[c] !== null ? jsonb(row[c]) : row[c])))})`,
          );
          await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
            values ${sql.join(values)}`.execute(tx);
          copied += rows.rows.length;
          onProgress({ table, tableIndex: i + 1, tables: tables.length, copied, total });
          if (rows.rows.length < chunkRows) break;
        }
        onProgress({ table, tableIndex: i + 1, tables: tables.length, copied, total });
      }
      const serials = await sql<{ table: string; column: string }>`
      select table_name as table, column_name as column from information_schema.columns
      where table_schema = current_schema() and column_default like 'nextval(%'`.execute(tx);
      for (const { table, column } of serials.rows) {
        if (!tables.includes(table)) continue;
        await sql`select setval(pg_get_serial_sequence(${table}, ${column}),
          coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(
          tx,
        );
      }
    });
}
