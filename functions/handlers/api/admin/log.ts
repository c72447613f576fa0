/**
 * The admin API's log: filtered, paged newest first, or downloaded whole as CSV or JSON
 * lines (oldest first, streamed; on Lambda in pages of under 1 MB, see the README).
 */
import * as z from '../../../core/zod.ts';
import { ADMIN_ERRORS, isoTime } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, nextCursor, timePosition } from './paging.ts';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date and time' });

export const logRecord = z
  .object({
    id: z.int(),
    at: isoTime,
    event: z.string(),
    user: z.nullable(z.string()),
    desktopId: z.nullable(z.int()),
    desktop: z.nullable(z.string()),
    clientIp: z.nullable(z.string()),
    siteId: z.nullable(z.int()),
    detail: z.nullable(z.string()),
  })
  .check(z.meta({ id: 'LogRecord' }));

export const logRoute = route({
  method: 'GET',
  path: '/api/v1/admin/log',
  function: 'admin',
  auth: 'admin',
  summary: 'The log, newest first; ?format=csv or jsonl downloads every matching row, oldest first',
  query: z
    .object({
      user: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
      event: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))),
      from: z.optional(instant).check(z.meta({ description: 'from this time on (inclusive)' })),
      to: z.optional(instant).check(z.meta({ description: 'before this time' })),
      format: z._default(z.enum(['json', 'csv', 'jsonl']), 'json'),
      limit: limitParam,
      cursor: cursorParam('log', z.extend(timePosition, { order: z.enum(['newest', 'oldest']) })),
    })
    .check(
      z.refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
        message: 'must be after from',
        path: ['to'],
      }),
    ),
  response: z.object({ log: z.array(logRecord), nextCursor }),
  alternateTypes: ['text/csv', 'application/jsonl'],
  errors: ADMIN_ERRORS,
});

export const logRoutes = [logRoute] as const;
