/** Every route of the HTTP API, for the OpenAPI document and the tests that walk them. */
import { adminRoutes } from './admin.ts';
import { agentRoutes } from './agent.ts';
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
  ...gatewayRoutes,
  ...operationsRoutes,
];
