/** Every route of the HTTP API, for the OpenAPI document and the tests that walk them. */

import { desktopRoutes } from './admin/desktops.ts';
import { gatewayRoutes as adminGatewayRoutes } from './admin/gateways.ts';
import { logRoutes } from './admin/log.ts';
import { overviewRoutes } from './admin/overview.ts';
import { sessionRoutes } from './admin/sessions.ts';
import { adminRoutes } from './admin.ts';
import { agentRoutes } from './agent.ts';
import { docsRoutes } from './docs.ts';
import { gatewayRoutes } from './gateway.ts';
import { healthRoutes } from './health.ts';
import { loginRoutes } from './login.ts';
import { offersRoutes } from './offers.ts';
import { operationsRoutes } from './operations.ts';
import type { ApiRoute } from './route.ts';

export const API_ROUTES: readonly ApiRoute[] = [
  ...healthRoutes,
  ...loginRoutes,
  ...offersRoutes,
  ...agentRoutes,
  ...adminRoutes,
  ...overviewRoutes,
  ...desktopRoutes,
  ...sessionRoutes,
  ...adminGatewayRoutes,
  ...logRoutes,
  ...gatewayRoutes,
  ...docsRoutes,
  ...operationsRoutes,
];
