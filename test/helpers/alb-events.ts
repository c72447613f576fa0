/**
 * Typed ALB event factories for handler tests (multi-value headers mode, as deployed).
 */
import type { ALBEvent } from 'aws-lambda';

export interface EventOptions {
  readonly method?: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** The address the load balancer saw; appended to X-Forwarded-For. */
  readonly sourceIp?: string;
}

export function albEvent(options: EventOptions): ALBEvent {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = [v];
  const forwarded = headers['x-forwarded-for']?.[0];
  const source = options.sourceIp ?? '203.0.113.10';
  headers['x-forwarded-for'] = [forwarded ? `${forwarded}, ${source}` : source];
  const body =
    options.body === undefined
      ? ''
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  if (options.body !== undefined && !headers['content-type'])
    headers['content-type'] = ['application/json'];
  return {
    requestContext: {
      elb: {
        targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/test/0',
      },
    },
    httpMethod: options.method ?? 'GET',
    path: options.path,
    multiValueQueryStringParameters: Object.fromEntries(
      Object.entries(options.query ?? {}).map(([k, v]) => [k, [encodeURIComponent(v)]]),
    ),
    multiValueHeaders: headers,
    body,
    isBase64Encoded: false,
  };
}
