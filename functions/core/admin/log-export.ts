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

/** Rows read per query. */
const PAGE_ROWS = 1000;

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
  async function* chunks(): AsyncGenerator<string> {
    let bytes = 0;
    let rows = 0;
    let after = options.after;
    if (options.format === 'csv' && after === undefined) {
      const header = `${LOG_COLUMNS.join(',')}\r\n`;
      bytes += Buffer.byteLength(header);
      yield header;
    }
    for (;;) {
      const page = await views.log(filter, {
        limit: options.pageRows ?? PAGE_ROWS,
        after,
        order: 'oldest',
      });
      let text = '';
      for (const row of page.items) {
        const line = formatLogRow(row, options.format);
        const size = Buffer.byteLength(line);
        // A part holds at least one row, however small maxBytes is, so an export always moves on.
        if (options.maxBytes !== undefined && rows > 0 && bytes + size > options.maxBytes) {
          next = after;
          if (text) yield text;
          return;
        }
        bytes += size;
        rows += 1;
        text += line;
        after = row.position;
      }
      if (text) yield text;
      if (!page.next) return;
    }
  }
  return { chunks: chunks(), next: () => next };
}
