/**
 * `/api/v1/admin/log`: the log, filtered by user, event and time. As JSON it is paged newest
 * first; `?format=csv|jsonl` downloads every matching row oldest first. The local runtime
 * streams the download whole, a page of rows at a time; a Lambda behind an ALB can answer at
 * most 1 MB, so there the download comes in parts of under {@link LAMBDA_BODY_BUDGET} bytes,
 * each naming the next (`Link: <...>; rel="next"` and `x-next-cursor`).
 */
import type { Broker } from '../../compose.ts';
import { exportLog, logView } from '../../core/admin/log-export.ts';
import type { LogFilter, TimePosition } from '../../core/admin/ports.ts';
import { BadRequestError } from '../../core/errors.ts';
import { logRoute } from '../api/admin/log.ts';
import { encodeCursor } from '../api/admin/paging.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import type { HttpResponse } from '../http/response.ts';

/** The ALB's limit on a Lambda's response body is 1 MB; headers and margin stay below it. */
export const LAMBDA_BODY_BUDGET = 900_000;

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/jsonl; charset=utf-8',
} as const;

export interface LogRouteOptions {
  /** The runtime sends streamed bodies (the local one); else parts under 1 MB. */
  readonly streaming?: boolean;
}

/** @throws {BadRequestError} for a cursor of the other order (a list cursor given to a download). */
function position(
  cursor: (TimePosition & { order: 'newest' | 'oldest' }) | undefined,
  order: 'newest' | 'oldest',
): TimePosition | undefined {
  if (!cursor) return undefined;
  if (cursor.order !== order) {
    throw new BadRequestError(
      'invalid_request',
      'cursor: belongs to the other kind of answer (list or download); start again without it',
    );
  }
  return { at: cursor.at, id: cursor.id };
}

/** The query of the next part: this one's, with the cursor replaced. */
function nextLink(path: string, query: Record<string, unknown>, cursor: string) {
  const params = new URLSearchParams();
  for (const k of ['user', 'event', 'from', 'to', 'format'])
    if (typeof query[k] === 'string') params.set(k, query[k]);
  params.set('cursor', cursor);
  return `<${path}?${params}>; rel="next"`;
}

export function logRoutes(broker: Broker, options: LogRouteOptions = {}): Route[] {
  return [
    sessionEndpoint(broker, logRoute, async ({ query, event }) => {
      const filter: LogFilter = {
        user: query.user,
        event: query.event,
        from: query.from === undefined ? undefined : Date.parse(query.from),
        to: query.to === undefined ? undefined : Date.parse(query.to),
      };
      if (query.format === 'json') {
        const page = await broker.admin.activity.log(filter, {
          limit: query.limit,
          after: position(query.cursor, 'newest'),
          order: 'newest',
        });
        return {
          log: page.items.map(logView),
          nextCursor: page.next
            ? encodeCursor('log', { ...page.next, order: 'newest' as const })
            : null,
        };
      }
      const format = query.format;
      const download = exportLog(broker.admin.activity, filter, {
        format,
        after: position(query.cursor, 'oldest'),
        maxBytes: options.streaming ? undefined : LAMBDA_BODY_BUDGET,
      });
      const day = new Date(broker.clock.now()).toISOString().slice(0, 10);
      const headers: Record<string, string> = {
        'content-type': CONTENT_TYPES[format],
        'content-disposition': `attachment; filename="deskbroker-log-${day}.${format}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      };
      if (options.streaming) {
        return {
          statusCode: 200,
          headers,
          body: '',
          stream: download.chunks,
        } satisfies HttpResponse;
      }
      let body = '';
      for await (const chunk of download.chunks) body += chunk;
      const next = download.next();
      if (next) {
        const cursor = encodeCursor('log', { ...next, order: 'oldest' as const });
        headers['x-next-cursor'] = cursor;
        headers.link = nextLink(event.path, query, cursor);
      }
      return { statusCode: 200, headers, body } satisfies HttpResponse;
    }),
  ];
}
