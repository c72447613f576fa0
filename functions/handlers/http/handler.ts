/**
 * Builds an HTTP Lambda handler for ALB events: middleware first, the route table last.
 * One place turns results and errors into responses: AppErrors become
 * `{ error, message }` with their status; anything else is a 500 with no details, logged.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { ALBEvent, ALBResult, Context } from 'aws-lambda';
import type { Logger } from '../../adapters/logger.ts';
import { AppError } from '../../core/errors.ts';
import type { ApiRoute } from '../api/route.ts';
import { checkCrossOrigin } from './cross-origin.ts';
import { clientIp } from './request.ts';
import { errorResponse, type HttpResponse, toAlbResult } from './response.ts';

/** A route the router serves: always the implementation of a contract (`./endpoint.ts`). */
export interface Route {
  readonly contract: ApiRoute;
  readonly method: ApiRoute['method'];
  /** A path, with `{name}` for path parameters. */
  readonly path: string;
  readonly handler: (event: ALBEvent, context: Context) => Promise<HttpResponse>;
}

export type AlbHandler = (event: ALBEvent, context: Context) => Promise<ALBResult>;

/** Maps any thrown value to a response; unknown errors are logged and hidden. */
export function responseForError(e: unknown, logger: Logger, requestId: string): HttpResponse {
  if (e instanceof AppError) {
    // A backing service failed: the answer says which part; the log keeps the whole error.
    if (e.status >= 500 && e.cause !== undefined)
      logger.warn('request failed', { requestId, code: e.code, error: e as Error });
    return errorResponse(e.status, e.code, e.message, {
      headers: { ...e.headers },
      details: e.details,
    });
  }
  // Errors from middy's own middleware (router 404, ...) carry a status and `expose`.
  const http = e as { statusCode?: number; expose?: boolean; message?: string };
  if (typeof http?.statusCode === 'number' && http.statusCode < 500 && http.expose) {
    const code = http.statusCode === 404 ? 'not_found' : 'bad_request';
    const message = http.statusCode === 404 ? 'no such endpoint' : String(http.message);
    return errorResponse(http.statusCode, code, message);
  }
  logger.error('request failed', { requestId, error: e as Error });
  return errorResponse(
    500,
    'internal_error',
    `something went wrong on our side (request ${requestId})`,
  );
}

/** Logs one line per request and converts the response to the ALB's header mode. */
const httpResponse = (
  logger: Logger,
  options: HttpHandlerOptions,
): MiddlewareObj<ALBEvent, ALBResult> => {
  const started = new WeakMap<object, number>();
  const finish = (
    request: { event: ALBEvent; context: Context },
    response: HttpResponse,
  ): ALBResult => {
    const requestId = request.context.awsRequestId;
    logger.info('request', {
      requestId,
      method: request.event.httpMethod,
      path: request.event.path,
      status: response.statusCode,
      ms: Date.now() - (started.get(request) ?? Date.now()),
      clientIp: clientIp(request.event, options.cdnOriginSecret),
    });
    return toAlbResult(response, request.event.multiValueHeaders !== undefined);
  };
  return {
    before: (request) => {
      started.set(request, Date.now());
      checkCrossOrigin(request.event);
    },
    after: (request) => {
      request.response = finish(request, request.response as unknown as HttpResponse);
    },
    onError: (request) => {
      const response = responseForError(request.error, logger, request.context.awsRequestId);
      request.response = finish(request, response);
    },
  };
};

export interface HttpHandlerOptions {
  /** See `clientIp`: requests through the site's CloudFront distribution. */
  readonly cdnOriginSecret?: string;
}

/** A handler serving `routes`, for a Lambda behind the ALB or the local runtime. */
export function httpHandler(
  logger: Logger,
  routes: readonly Route[],
  options: HttpHandlerOptions = {},
): AlbHandler {
  return middy<ALBEvent, ALBResult>()
    .use(injectLambdaContext(logger))
    .use(httpResponse(logger, options))
    .handler(httpRouterHandler(routes as never) as never) as unknown as AlbHandler;
}
