/** The guide's health queries, for load balancers and autoscaling (text/plain). */
import * as z from '../../core/zod.ts';
import { route } from './route.ts';

const query = z.object({
  action: z.enum(['is_alive', 'cb_status', 'cb_version'], {
    message: 'must be is_alive, cb_status or cb_version',
  }),
});

const answer = z.string().check(
  z.meta({
    description: '`CB_IS_OKAY`, `ERROR_MESSAGE: …` (with more lines for cb_status), or the version',
    example: 'CB_IS_OKAY',
  }),
);

export const healthRoute = route({
  method: 'GET',
  path: '/index.pl',
  function: 'health',
  auth: 'none',
  summary: 'is_alive (503 unless ready for logins), cb_status (always 200), cb_version',
  query,
  response: answer,
  responseType: 'text/plain',
  errors: [503],
});

export const healthHeadRoute = route({ ...healthRoute, method: 'HEAD' });

export const healthRoutes = [healthRoute, healthHeadRoute] as const;
