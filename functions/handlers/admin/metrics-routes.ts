/**
 * `GET /metrics`: the broker's metrics in the Prometheus text format, for administrators
 * (a scraper signs in as one and sends the token as `Authorization: Bearer`). Served by the
 * local runtime; on Lambda the metrics go to CloudWatch (EMF) and this answers 404 saying so.
 * It stays open in leased mode: an outage is when the figures matter most.
 */
import type { Broker } from '../../compose.ts';
import { metricsRoute } from '../api/operations.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import { errorResponse } from '../http/response.ts';

export function metricsRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, metricsRoute, async () => {
      const exposition = await broker.metrics.exposition();
      if (!exposition) {
        return errorResponse(
          404,
          'metrics_elsewhere',
          `this broker does not serve its metrics here; they go to ${broker.metrics.destination}`,
        );
      }
      return {
        statusCode: 200,
        headers: { 'content-type': exposition.contentType, 'cache-control': 'no-store' },
        body: exposition.body,
      };
    }),
  ];
}
