/**
 * The log as a download: CSV (RFC 4180) or JSON lines, oldest first, read from the site
 * database a page at a time and handed on as text chunks, so no export holds more than one
 * page of rows. With `maxBytes` (a Lambda behind an ALB answers at most 1 MB) it stops at the
 * last whole row that fits and tells where the next part starts.
 */
import type { ActivityViews, LogFilter, LogRecord, TimePosition } from './ports.ts';

/** The CSV columns, in order: the fields of a JSON line. */
export const LOG_COLUMNS = [
  'id',
  'at',
  'event',
  'user',
  'desktopId',
  'desktop',
  'clientIp',
  'siteId',
  'detail',
] as const satisfies readonly (keyof LogRecord)[];

export type ExportFormat = 'csv' | 'jsonl';

/**
 * Rows read per query, formatted at once and handed on as one chunk. Small on purpose: the
 * rows die before the chunk waits for the client, and a chunk (about 100 KB) stays under
 * V8's large-object size, so an export leaves short-lived garbage that the young
 * generation collects, instead of filling the old generation until a full collection.
 */
const PAGE_ROWS = 100;

/** The record as the API shows it: the time in ISO 8601. */
export function logView(r: LogRecord) {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    event: r.event,
    user: r.user,
    desktopId: r.desktopId,
    desktop: r.desktop,
    clientIp: r.clientIp,
    siteId: r.siteId,
    detail: r.detail,
  };
}

/**
 * One CSV field. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first)
 * gets a leading apostrophe (OWASP "CSV injection"): user names and details come from outside.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function formatLogRow(r: LogRecord, format: ExportFormat): string {
  const view = logView(r);
  if (format === 'jsonl') return `${JSON.stringify(view)}\n`;
  return `${LOG_COLUMNS.map((c) => csvField(view[c])).join(',')}\r\n`;
}

export interface LogExport {
  /** The text, chunk by chunk; pulling the next chunk reads the next page of rows. */
  readonly chunks: AsyncIterable<string>;
  /** After the chunks are consumed: where the next part starts, when `maxBytes` cut it short. */
  next(): TimePosition | undefined;
}

/**
 * Exports the log rows matching `filter`, oldest first, after `after` (a continuation).
 * The CSV header comes only in the first part, so the parts concatenate to one file.
 */
export function exportLog(
  views: Pick<ActivityViews, 'log'>,
  filter: LogFilter,
  options: {
    readonly format: ExportFormat;
    readonly after?: TimePosition;
    readonly maxBytes?: number;
    readonly pageRows?: number;
  },
): LogExport {
  let next: TimePosition | undefined;
  const state = { bytes: 0, rows: 0, after: options.after };
  // One page: read, formatted, and let go before the text is handed on. The rows live only in
  // this function's frame; a generator frame would keep the last page until the next one
  // arrives, long enough for V8 to promote every row to the old generation.
  const readPage = async (): Promise<{ text: string; done: boolean }> => {
    const page = await views.log(filter, {
      limit: options.pageRows ?? PAGE_ROWS,
      after: state.after,
      order: 'oldest',
    });
    let text = '';
    for (const row of page.items) {
      const line = formatLogRow(row, options.format);
      const size = Buffer.byteLength(line);
      // A part holds at least one row, however small maxBytes is, so an export always moves on.
      if (
        options.maxBytes !== undefined &&
        state.rows > 0 &&
        state.bytes + size > options.maxBytes
      ) {
        next = state.after;
        return { text, done: true };
      }
      state.bytes += size;
      state.rows += 1;
      text += line;
      state.after = row.position;
    }
    return { text, done: page.next === undefined };
  };
  async function* chunks(): AsyncGenerator<string> {
    if (options.format === 'csv' && state.after === undefined) {
      const header = `${LOG_COLUMNS.join(',')}\r\n`;
      state.bytes += Buffer.byteLength(header);
      yield header;
    }
    for (;;) {
      const { text, done } = await readPage();
      if (text) yield text;
      if (done) return;
    }
  }
  return { chunks: chunks(), next: () => next };
}
