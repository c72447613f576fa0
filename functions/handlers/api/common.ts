/** Schemas several routes share. */
import * as z from '../../core/zod.ts';

/** Every error answer: a snake_case code and a sentence for people. */
export const errorBody = z
  .object({
    error: z.string().check(z.meta({ example: 'invalid_request' })),
    message: z.string().check(z.meta({ example: 'username: is required' })),
  })
  .check(z.meta({ id: 'Error' }));

/** A time as the API writes it. */
export const isoTime = z.iso.datetime();

/** A positive 32-bit id in a path (`/offers/{desktopId}/...`). */
export const idParam = (what: string) =>
  z.coerce
    .number({ message: `must be a ${what} id (a number)` })
    .check(
      z.int(`must be a ${what} id (a number)`),
      z.positive(`must be a ${what} id (a number)`),
      z.maximum(2_147_483_647, `must be a ${what} id (a number)`),
    );

/** Whether the broker works from the site database or from connection leases. */
export const mode = z.enum(['normal', 'leased']);

export const okBody = z.object({ ok: z.literal(true) });

/** What every admin route may answer besides 200 and 400: not signed in, not an administrator, leased mode. */
export const ADMIN_ERRORS = [401, 403, 503] as const;
