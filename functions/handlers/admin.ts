/**
 * The admin API, `/api/v1/admin/...`, for administrators only. Each area's routes live in
 * ./admin/; every route checks the administrator session itself.
 */
import type { Broker } from '../compose.ts';
import { clusterRoutes } from './admin/cluster-routes.ts';
import { configRoutes } from './admin/config-routes.ts';
import { jobsRoutes } from './admin/jobs-routes.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { lambdaHandler } from './lambda.ts';

export function buildAdminHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, [
    ...configRoutes(broker),
    ...jobsRoutes(broker),
    ...clusterRoutes(broker),
  ]);
}

export const handler = lambdaHandler(buildAdminHandler);
