/**
 * ALB responses. Handlers build plain `{ statusCode, headers, body }`; the http middleware
 * converts headers to the target group's multi-value form when the event used it.
 */
import type { ALBResult } from 'aws-lambda';

export type Headers = Record<string, string | string[]>;

export interface HttpResponse {
  statusCode: number;
  headers: Headers;
  body: string;
  isBase64Encoded?: boolean;
  /**
   * A body sent as it is produced, after `body` (downloads). Only a runtime that streams
   * responses (the local one) may be given one: a Lambda behind an ALB answers one string.
   */
  stream?: AsyncIterable<string>;
}

/** An ALB result that may carry a streamed body (the local runtime's load balancer sends it). */
export type StreamingAlbResult = ALBResult & { bodyStream?: AsyncIterable<string> };

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Headers = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function text(statusCode: number, body: string, headers: Headers = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    body,
  };
}

/** The error body every endpoint uses: `{ error, message }` plus optional details. */
export function errorResponse(
  statusCode: number,
  error: string,
  message: string,
  extra: { headers?: Record<string, string>; details?: Record<string, unknown> } = {},
): HttpResponse {
  return json(statusCode, { error, message, ...extra.details }, extra.headers);
}

/** Converts to the shape the ALB expects: `multiValueHeaders` in multi-value mode, else `headers`. */
export function toAlbResult(response: HttpResponse, multiValue: boolean): StreamingAlbResult {
  const base = {
    statusCode: response.statusCode,
    statusDescription: `${response.statusCode} ${STATUS_TEXT[response.statusCode] ?? ''}`.trim(),
    body: response.body,
    isBase64Encoded: response.isBase64Encoded ?? false,
    ...(response.stream ? { bodyStream: response.stream } : {}),
  };
  if (multiValue) {
    return {
      ...base,
      multiValueHeaders: Object.fromEntries(
        Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
      ),
    };
  }
  return {
    ...base,
    headers: Object.fromEntries(
      Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
    ),
  };
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};
