/**
 * The admin API, `/api/v1/admin/...`, for administrators only. Each area's routes live in
 * ./admin/; every route checks the administrator session itself. In leased mode (the site
 * database down) administration is refused, as in the guide and Citrix's leased mode.
 */
import type { Broker } from '../compose.ts';
import { ServiceUnavailableError } from '../core/errors.ts';
import { clusterRoutes } from './admin/cluster-routes.ts';
import { configRoutes } from './admin/config-routes.ts';
import { gatewaysRoutes } from './admin/gateways-routes.ts';
import { jobsRoutes } from './admin/jobs-routes.ts';
import { leasesRoutes } from './admin/leases-routes.ts';
import { metricsRoutes } from './admin/metrics-routes.ts';
import { secretsRoutes } from './admin/secrets-routes.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { lambdaHandler } from './lambda.ts';

/** Refuses every admin request while the breaker says the site database is down. */
function notInLeasedMode(broker: Broker, route: Route): Route {
  return {
    ...route,
    handler: async (event, context) => {
      if (broker.leasing.breaker.state !== 'closed') {
        throw new ServiceUnavailableError(
          'site_database_unavailable',
          'administration is not available while the site database is down (leased mode)',
        );
      }
      return route.handler(event, context);
    },
  };
}

/** The routes this handler serves, each the implementation of its contract. */
export function adminEndpoints(broker: Broker): Route[] {
  return [
    ...[
      ...configRoutes(broker),
      ...jobsRoutes(broker),
      ...clusterRoutes(broker),
      ...leasesRoutes(broker),
      ...secretsRoutes(broker),
      ...gatewaysRoutes(broker),
    ].map((r) => notInLeasedMode(broker, r)),
    // Metrics need no site database, and matter most while it is down.
    ...metricsRoutes(broker),
  ];
}

export function buildAdminHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, adminEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(buildAdminHandler);
