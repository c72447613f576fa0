/**
 * `GET /metrics`: the broker's metrics in the Prometheus text format, for administrators
 * (a scraper signs in as one and sends the token as `Authorization: Bearer`). Served by the
 * local runtime; on Lambda the metrics go to CloudWatch (EMF) and this answers 404 saying so.
 * It stays open in leased mode: an outage is when the figures matter most.
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../../compose.ts';
import type { Route } from '../http/handler.ts';
import { errorResponse } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

/** The path the metrics are served at. */
export const METRICS_PATH = '/metrics';

export function metricsRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: METRICS_PATH,
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
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
      },
    },
  ];
}
