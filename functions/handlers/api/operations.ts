/**
 * Operations routes: the broker's metrics (`GET /metrics`, Prometheus text), administrators
 * only. (The gateway list with the registered gateways is the admin API's, admin/gateways.ts.)
 */
import * as z from '../../core/zod.ts';
import { route } from './route.ts';

export const metricsRoute = route({
  method: 'GET',
  path: '/metrics',
  function: 'admin',
  auth: 'admin',
  summary:
    "The broker's metrics in the Prometheus text format (local runtime; on Lambda they go to CloudWatch and this answers 404)",
  response: z.string(),
  responseType: 'text/plain; version=0.0.4; charset=utf-8',
  errors: [401, 403, 404],
});

export const operationsRoutes = [metricsRoute] as const;
