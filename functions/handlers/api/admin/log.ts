/**
 * The admin API's log: filtered, paged newest first, or downloaded whole as CSV or JSON
 * lines (oldest first, streamed; on Lambda in pages of under 1 MB, see the README).
 */
import * as z from 'zod';
import { ADMIN_ERRORS, isoTime } from '../common.ts';
import { route } from '../route.ts';
import { cursorParam, limitParam, nextCursor, timePosition } from './paging.ts';

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date and time' });

export const logRecord = z
  .object({
    id: z.number().int(),
    at: isoTime,
    event: z.string(),
    user: z.string().nullable(),
    desktopId: z.number().int().nullable(),
    desktop: z.string().nullable(),
    clientIp: z.string().nullable(),
    siteId: z.number().int().nullable(),
    detail: z.string().nullable(),
  })
  .meta({ id: 'LogRecord' });

export const logRoute = route({
  method: 'GET',
  path: '/api/v1/admin/log',
  function: 'admin',
  auth: 'admin',
  summary: 'The log, newest first; ?format=csv or jsonl downloads every matching row, oldest first',
  query: z
    .object({
      user: z.string().trim().min(1).max(256).optional(),
      event: z.string().trim().min(1).max(100).optional(),
      from: instant.optional().meta({ description: 'from this time on (inclusive)' }),
      to: instant.optional().meta({ description: 'before this time' }),
      format: z.enum(['json', 'csv', 'jsonl']).default('json'),
      limit: limitParam,
      cursor: cursorParam('log', timePosition.extend({ order: z.enum(['newest', 'oldest']) })),
    })
    .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
      message: 'must be after from',
      path: ['to'],
    }),
  response: z.object({ log: z.array(logRecord), nextCursor }),
  alternateTypes: ['text/csv', 'application/jsonl'],
  errors: ADMIN_ERRORS,
});

export const logRoutes = [logRoute] as const;
