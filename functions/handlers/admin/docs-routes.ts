/** `/api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated once per process. */
import type { Broker } from '../../compose.ts';
import { openApiRoute } from '../api/docs.ts';
import { API_ROUTES } from '../api/index.ts';
import { endpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import { openApiDocument } from '../http/openapi.ts';

export function docsRoutes(broker: Broker): Route[] {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return [
    endpoint(openApiRoute, async () => {
      document ??= openApiDocument(API_ROUTES, broker.version);
      return document as unknown as Record<string, unknown>;
    }),
  ];
}
