/**
 * The admin console's pure parts: CSV fields (quoting, formula guard), the log export's
 * parts under a byte budget, cursors (opaque, refused when forged or from another list),
 * and the line a configuration problem names.
 */
import { describe, expect, it } from 'vitest';
import { csvField, exportLog, formatLogRow } from '../../functions/core/admin/log-export.ts';
import type { LogRow, Page, TimePosition } from '../../functions/core/admin/ports.ts';
import { locateProblems, parsePath } from '../../functions/core/site-config/locate.ts';
import * as z from '../../functions/core/zod.ts';
import { cursorParam, encodeCursor } from '../../functions/handlers/api/admin/paging.ts';

/** An in-memory log of `n` rows, read like the site database reads it (oldest first). */
function memoryLog(n: number, detail = 'd') {
  const rows: LogRow[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    at: Date.UTC(2026, 0, 1) + i * 1000,
    event: 'login',
    user: 'u',
    desktopId: null,
    desktop: null,
    clientIp: null,
    siteId: 1,
    detail: `${detail}${i + 1}`,
    position: { at: String(i + 1), id: i + 1 },
  }));
  let queries = 0;
  return {
    get queries() {
      return queries;
    },
    async log(
      _filter: unknown,
      page: { limit: number; after?: TimePosition },
    ): Promise<Page<LogRow, TimePosition>> {
      queries++;
      const start = page.after ? page.after.id : 0;
      const items = rows.slice(start, start + page.limit);
      const more = start + page.limit < rows.length;
      return { items, next: more ? items.at(-1)!.position : undefined };
    },
  };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

describe('CSV fields', () => {
  it('quotes what needs quoting and keeps formulas from running in a spreadsheet', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('+cmd')).toBe("'+cmd");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('=HYPERLINK("x"),y')).toBe('"\'=HYPERLINK(""x""),y"');
  });

  it('formats a row as CSV (CRLF) or as a JSON line with the time in ISO 8601', () => {
    const row = {
      id: 7,
      at: Date.UTC(2026, 0, 1, 12),
      event: 'connect',
      user: 'ann',
      desktopId: 3,
      desktop: 'eng-01',
      clientIp: '10.0.0.9',
      siteId: 1,
      detail: 'rdp direct',
    };
    expect(formatLogRow(row, 'csv')).toBe(
      '7,2026-01-01T12:00:00.000Z,connect,ann,3,eng-01,10.0.0.9,1,rdp direct\r\n',
    );
    expect(JSON.parse(formatLogRow(row, 'jsonl'))).toEqual({
      ...row,
      at: '2026-01-01T12:00:00.000Z',
    });
  });
});

describe('the log export', () => {
  it('reads page by page and hands each page on as it comes', async () => {
    const log = memoryLog(250);
    const download = exportLog(log, {}, { format: 'csv' });
    const iterator = download.chunks[Symbol.asyncIterator]();

    const header = await iterator.next();
    const first = await iterator.next();

    expect(header.value).toBe('id,at,event,user,desktopId,desktop,clientIp,siteId,detail\r\n');
    expect(log.queries).toBe(1);
    expect(first.value.split('\r\n').filter(Boolean)).toHaveLength(100);
    const rest = await text({ [Symbol.asyncIterator]: () => iterator });
    expect(rest.split('\r\n').filter(Boolean)).toHaveLength(150);
    expect(log.queries).toBe(3);
    expect(download.next()).toBeUndefined();
  });

  it('stops at the last whole row under maxBytes and goes on from there, header once', async () => {
    const log = memoryLog(1000, 'x'.repeat(200));
    const parts: string[] = [];
    let after: TimePosition | undefined;
    do {
      const part = exportLog(log, {}, { format: 'csv', after, maxBytes: 20_000 });
      parts.push(await text(part.chunks));
      after = part.next();
    } while (after);

    expect(parts.length).toBeGreaterThan(5);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(20_000);
    const lines = parts.join('').split('\r\n').filter(Boolean);
    expect(lines[0]).toMatch(/^id,at,/);
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
  });

  it('always moves on, even when one row is larger than maxBytes', async () => {
    const part = exportLog(memoryLog(3, 'y'.repeat(500)), {}, { format: 'jsonl', maxBytes: 10 });
    const body = await text(part.chunks);
    expect(body.trimEnd().split('\n')).toHaveLength(1);
    expect(part.next()).toEqual({ at: '1', id: 1 });
  });
});

describe('cursors', () => {
  const schema = z.object({
    cursor: cursorParam('things', z.object({ name: z.string(), id: z.number() })),
  });

  it('decode to the position they were made from', () => {
    const cursor = encodeCursor('things', { name: 'b', id: 2 });
    expect(cursor).toMatch(/^[\w-]+$/);
    expect(schema.parse({ cursor })).toEqual({ cursor: { name: 'b', id: 2 } });
    expect(schema.parse({})).toEqual({});
  });

  it('are refused when forged, truncated, or made by another list', () => {
    const good = encodeCursor('things', { name: 'b', id: 2 });
    for (const cursor of [
      'garbage!',
      good.slice(0, -4),
      encodeCursor('other', { name: 'b', id: 2 }),
      encodeCursor('things', { name: 'b' }),
      'x'.repeat(3000),
    ]) {
      const parsed = schema.safeParse({ cursor });
      expect(parsed.success, cursor.slice(0, 20)).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['cursor']);
    }
  });
});

describe('configuration problems by line', () => {
  it('parses a problem path', () => {
    expect(parsePath('policies[1].entries[0].pool')).toEqual(['policies', 1, 'entries', 0, 'pool']);
    expect(parsePath('(file)')).toEqual([]);
  });

  it('finds the line of the deepest part of the path in YAML and in JSON', () => {
    const yaml =
      'roles:\n  - name: User\npolicies:\n  - name: p\n    entries:\n      - pool: eng\n';
    const json =
      '{\n  "pools": [\n    { "name": "a" },\n    { "name": "b", "desktops": [] }\n  ]\n}';

    expect(
      locateProblems(yaml, [
        { path: 'policies[0].entries[0].pool', message: 'unknown pool "eng"' },
        { path: 'policies[0].entries[0].offer', message: 'missing' },
        { path: 'roles[3]', message: 'no such entry' },
      ]).map((p) => p.line),
    ).toEqual([6, 6, 1]);
    expect(locateProblems(json, [{ path: 'pools[1].desktops', message: 'x' }])[0]!.line).toBe(4);
    expect(
      locateProblems('pools: [unclosed', [{ path: 'pools', message: 'x' }])[0]!.line,
    ).toBeNull();
  });
});
