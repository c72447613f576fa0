/**
 * The admin API, `/api/v1/admin/...`, for administrators only, and the API's OpenAPI
 * document. Each area's routes live in ./admin/; every route checks the administrator
 * session itself. In leased mode (the site database down) administration is refused, as in
 * the guide and Citrix's leased mode; what the state table alone answers (who is signed in,
 * leases), the metrics and the API document still work.
 */
import { type Broker, compose } from '../compose.ts';
import { ServiceUnavailableError } from '../core/errors.ts';
import { clusterRoutes } from './admin/cluster-routes.ts';
import { configRoutes } from './admin/config-routes.ts';
import { desktopsRoutes } from './admin/desktops-routes.ts';
import { docsRoutes } from './admin/docs-routes.ts';
import { gatewaysRoutes } from './admin/gateways-routes.ts';
import { jobsRoutes } from './admin/jobs-routes.ts';
import { leasesRoutes } from './admin/leases-routes.ts';
import { type LogRouteOptions, logRoutes } from './admin/log-routes.ts';
import { metricsRoutes } from './admin/metrics-routes.ts';
import { secretsRoutes } from './admin/secrets-routes.ts';
import { sessionsRoutes } from './admin/sessions-routes.ts';
import { sessionsRoute } from './api/admin/sessions.ts';
import { leasesRoute } from './api/admin.ts';
import { openApiRoute } from './api/docs.ts';
import { metricsRoute } from './api/operations.ts';
import type { ApiRoute } from './api/route.ts';
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

/**
 * Routes that read only the state table (or nothing): they answer in leased mode too. Metrics
 * matter most while the site database is down.
 */
const WITHOUT_SITE_DATABASE: ReadonlySet<ApiRoute> = new Set<ApiRoute>([
  sessionsRoute,
  leasesRoute,
  openApiRoute,
  metricsRoute,
]);

/** The routes this handler serves, each the implementation of its contract. */
export function adminEndpoints(broker: Broker, options: LogRouteOptions = {}): Route[] {
  return [
    ...configRoutes(broker),
    ...jobsRoutes(broker),
    ...clusterRoutes(broker),
    ...leasesRoutes(broker),
    ...desktopsRoutes(broker),
    ...sessionsRoutes(broker),
    ...gatewaysRoutes(broker),
    ...logRoutes(broker, options),
    ...secretsRoutes(broker),
    ...docsRoutes(broker),
    ...metricsRoutes(broker),
  ].map((r) => (WITHOUT_SITE_DATABASE.has(r.contract) ? r : notInLeasedMode(broker, r)));
}

/**
 * The admin handler. `streaming` is for a runtime that sends streamed bodies (the local
 * one): log downloads then come whole; on Lambda they come in parts under 1 MB.
 */
export function buildAdminHandler(broker: Broker, options: LogRouteOptions = {}): AlbHandler {
  return httpHandler(broker.logger, adminEndpoints(broker, options), broker.config);
}

// Administration touches every area of the broker: it composes the whole of it.
export const handler = lambdaHandler(compose, (broker) => buildAdminHandler(broker));
