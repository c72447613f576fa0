/** The API's own description: an OpenAPI 3.1 document generated from this contract. */
import * as z from '../../core/zod.ts';
import { route } from './route.ts';

export const openApiRoute = route({
  method: 'GET',
  path: '/api/v1/openapi.json',
  function: 'admin',
  auth: 'none',
  summary: 'This API as an OpenAPI 3.1 document, generated from the contract the handlers use',
  response: z
    .record(z.string(), z.unknown())
    .check(z.meta({ description: 'an OpenAPI 3.1 document' })),
});

export const docsRoutes = [openApiRoute] as const;
