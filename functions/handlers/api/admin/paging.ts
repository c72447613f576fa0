/**
 * Paging of the admin lists: `limit` and an opaque `cursor` that the previous page handed
 * out (`nextCursor`). A cursor is the position of the last row shown, tagged with its list;
 * one that does not decode to a position of this list is refused with 400 before the
 * handler runs.
 */
import * as z from '../../../core/zod.ts';

/** How many rows a page holds. */
export const limitParam = z
  ._default(
    z.coerce
      .number()
      .check(
        z.int('must be a whole number'),
        z.minimum(1, 'must be at least 1'),
        z.maximum(500, 'must be at most 500'),
      ),
    50,
  )
  .check(z.meta({ description: 'rows per page, 1 to 500 (default 50)' }));

/** The cursor a list hands out: where its next page starts, or null on the last page. */
export const nextCursor = z
  .nullable(z.string())
  .check(z.meta({ description: 'give it as `cursor` for the next page; null on the last page' }));

/** Encodes the position after which list `kind` goes on. */
export function encodeCursor(kind: string, position: unknown): string {
  return Buffer.from(JSON.stringify({ k: kind, p: position }), 'utf8').toString('base64url');
}

function decode(text: string): unknown {
  if (!/^[\w-]+$/.test(text)) return undefined;
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The `cursor` query parameter of list `kind`: decoded to a position, or a 400. */
export function cursorParam<P extends z.ZodMiniType>(kind: string, position: P) {
  const tagged = z.object({ k: z.literal(kind), p: position });
  return z
    .optional(
      z.pipe(
        z.string().check(z.maxLength(2048, 'is not a cursor this list gave out')),
        z.transform((text, ctx): z.output<P> => {
          const parsed = tagged.safeParse(decode(text));
          if (!parsed.success) {
            ctx.issues.push({
              code: 'custom',
              message: 'is not a cursor this list gave out; start again without it',
              input: text,
            });
            return z.NEVER;
          }
          return (parsed.data as { p: z.output<P> }).p;
        }),
      ),
    )
    .check(z.meta({ description: 'the `nextCursor` of the previous page' }));
}

/** A position by time: epoch microseconds (as text, exact) and the row id. */
export const timePosition = z.object({
  at: z.string().check(z.regex(/^\d{1,20}$/)),
  id: z.int().check(z.positive()),
});

/** A position by name (pools, gateways). */
export const namePosition = z.string().check(z.minLength(1), z.maxLength(256));
