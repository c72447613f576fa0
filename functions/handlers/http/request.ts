/**
 * Reading ALB events: headers, cookies, JSON bodies validated with zod, and the client's
 * address as the load balancer saw it. Works with and without the target group's multi-value
 * headers mode. Path parameters and the query are decoded in one place only, `endpoint.ts`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ALBEvent } from 'aws-lambda';
import { AppError, BadRequestError } from '../../core/errors.ts';
import { normalizeIp } from '../../core/ip-range.ts';
import { formatPath } from '../../core/site-config/validate.ts';
import { findTextProblem } from '../../core/text.ts';
import type * as z from '../../core/zod.ts';

/** Largest request body the broker reads (the ALB's own limit for Lambda targets is 1 MB). */
export const MAX_BODY_BYTES = 1_000_000;

/** All values of a header, lower-cased name. */
export function headerValues(event: ALBEvent, name: string): string[] {
  const lower = name.toLowerCase();
  if (event.multiValueHeaders) {
    for (const [k, v] of Object.entries(event.multiValueHeaders)) {
      if (k.toLowerCase() === lower && v) return v;
    }
    return [];
  }
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (k.toLowerCase() === lower && v !== undefined) return [v];
  }
  return [];
}

export function header(event: ALBEvent, name: string): string | undefined {
  return headerValues(event, name)[0];
}

export function cookies(event: ALBEvent): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of headerValues(event, 'cookie')) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  return jar;
}

/** The header CloudFront adds to every request it passes to the load balancer. */
export const CDN_ORIGIN_HEADER = 'x-deskbroker-cdn';

/**
 * The client's address: the last entry of X-Forwarded-For, which the load balancer appends.
 * Earlier entries come from the client and are never trusted, except one: a request that came
 * through the site's CloudFront distribution (its `x-deskbroker-cdn` header holds
 * `cdnOriginSecret`) names the client in the entry CloudFront appended, just before the load
 * balancer's.
 */
export function clientIp(event: ALBEvent, cdnOriginSecret?: string): string {
  const chain = headerValues(event, 'x-forwarded-for')
    .join(',')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const viaCdn =
    cdnOriginSecret !== undefined && sameSecret(header(event, CDN_ORIGIN_HEADER), cdnOriginSecret);
  const entry = viaCdn && chain.length >= 2 ? chain.at(-2) : chain.at(-1);
  return entry ? normalizeIp(entry) : 'unknown';
}

/** Compares in constant time, so the header's value cannot be guessed a byte at a time. */
function sameSecret(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/** The raw body as text. @throws {AppError} 413 past {@link MAX_BODY_BYTES}. */
export function bodyText(event: ALBEvent): string {
  const body = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new AppError(
      413,
      'body_too_large',
      `the request body is larger than ${MAX_BODY_BYTES} bytes`,
    );
  }
  return text;
}

/**
 * Refuses text the site database cannot store (NUL characters, lone surrogates) anywhere in
 * `value`, its keys included.
 * @throws {BadRequestError} `invalid_text` naming where, under `where` (`body`, `query`, ...).
 */
export function checkText(value: unknown, where: string): void {
  const found = findTextProblem(value);
  if (found) {
    const path = found.path.length > 0 ? formatPath(found.path) : where;
    throw new BadRequestError('invalid_text', `${path}: ${found.message}`);
  }
}

/**
 * Parses a JSON body, refuses text the database cannot store, and validates it.
 * @throws {BadRequestError} `invalid_json`, `invalid_text` or `invalid_request` naming the
 *   first bad field.
 */
export function jsonBody<S extends z.ZodMiniType>(event: ALBEvent, schema: S): z.output<S> {
  const text = bodyText(event);
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid_json', 'the request body is not valid JSON');
  }
  checkText(value, 'body');
  return validate(schema, value);
}

/** Validates a value (body, query) with a schema. @throws {BadRequestError} naming the field. */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A bad record key: name the record, and say what is wrong with the key.
    const inner = issue.code === 'invalid_key' ? issue.issues[0] : undefined;
    const path = inner ? issue.path.slice(0, -1) : issue.path;
    const message = inner
      ? `key "${String(issue.path.at(-1)).slice(0, 64)}": ${inner.message}`
      : issue.message;
    const where = path.length > 0 ? `${formatPath(path)}: ` : '';
    throw new BadRequestError('invalid_request', `${where}${message}`);
  }
  return parsed.data;
}
