/**
 * Implements one route of the API contract (`../api/`): decodes and validates its path
 * parameters, query and JSON body with the contract's schemas (400 `{ error, message }` for
 * anything malformed, before the implementation runs), then answers what the
 * implementation returns: a body (sent as JSON with 200) or a whole {@link HttpResponse}.
 * This is the only place that percent-decodes: the local load balancer and the router pass
 * paths and queries on as they came, as the ALB does. Every route's query is decoded, even
 * a route that takes none, so a malformed escape is a 400 everywhere. Text the site database
 * cannot store (NUL, lone surrogates) is refused in headers, path, query and body alike.
 * Routes for users and administrators go through {@link sessionEndpoint}, which checks the
 * session the contract asks for before anything else, so no route can forget it.
 */
import type { ALBEvent, Context } from 'aws-lambda';
import { BadRequestError } from '../../core/errors.ts';
import type { Session } from '../../core/login/sessions.ts';
import { textProblem } from '../../core/text.ts';
import type * as z from '../../core/zod.ts';
import type { ApiRoute } from '../api/route.ts';
import type { SessionBroker } from './deps.ts';
import type { Route } from './handler.ts';
import { checkText, jsonBody, validate } from './request.ts';
import { type HttpResponse, json } from './response.ts';
import { requireAdminSession, requireSession } from './session.ts';

type Parsed<S> = S extends z.ZodMiniType ? z.output<S> : Record<string, never>;

export interface EndpointInput<P, Q, B> {
  readonly event: ALBEvent;
  readonly context: Context;
  readonly params: Parsed<P>;
  readonly query: Parsed<Q>;
  /** The validated JSON body (undefined for routes without one, or with `bodyType: 'text'`). */
  readonly body: B extends z.ZodMiniType ? z.output<B> : undefined;
}

/** Decodes a percent-encoded value. @throws {BadRequestError} `bad_encoding` naming `where`. */
export function decodeComponent(value: string, where: string, plusIsSpace = false): string {
  try {
    return decodeURIComponent(plusIsSpace ? value.replace(/\+/g, ' ') : value);
  } catch {
    throw new BadRequestError('bad_encoding', `${where}: is not valid percent-encoding`);
  }
}

/** The path parameters the router matched, decoded. */
function pathParams(event: ALBEvent): Record<string, string> {
  const raw = (event as ALBEvent & { pathParameters?: Record<string, string> }).pathParameters;
  const params = Object.fromEntries(
    Object.entries(raw ?? {}).map(([k, v]) => [k, decodeComponent(v, k)]),
  );
  checkText(params, 'path');
  return params;
}

/** The query, decoded (the ALB passes it still encoded); the first value of a repeated key. */
function queryParams(event: ALBEvent): Record<string, string> {
  const entries = event.multiValueQueryStringParameters
    ? Object.entries(event.multiValueQueryStringParameters).map(([k, v]) => [k, v?.[0]] as const)
    : Object.entries(event.queryStringParameters ?? {});
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    out[decodeComponent(k, 'query', true)] = decodeComponent(v, k, true);
  }
  checkText(out, 'query');
  return out;
}

/** Refuses header values the site database could not store (recorded client headers reach it). */
function checkHeaders(event: ALBEvent): void {
  const headers = event.multiValueHeaders ?? event.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const problem = typeof v === 'string' ? textProblem(v) : undefined;
      if (problem) throw new BadRequestError('invalid_text', `header ${name}: ${problem}`);
    }
  }
}

const isResponse = (x: unknown): x is HttpResponse =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as HttpResponse).statusCode === 'number' &&
  typeof (x as HttpResponse).body === 'string' &&
  typeof (x as HttpResponse).headers === 'object';

type AnyObject = z.ZodMiniObject;

function build<P, Q, B, S extends z.ZodMiniType, Extra>(
  contract: ApiRoute,
  before: (event: ALBEvent) => Promise<Extra>,
  implementation: (input: EndpointInput<P, Q, B> & Extra) => Promise<z.input<S> | HttpResponse>,
): Route {
  return {
    contract,
    method: contract.method,
    path: contract.path,
    handler: async (event: ALBEvent, context: Context) => {
      const extra = await before(event);
      checkHeaders(event);
      const rawParams = pathParams(event);
      const rawQuery = queryParams(event);
      const params = contract.params ? validate(contract.params, rawParams) : {};
      const query = contract.query ? validate(contract.query, rawQuery) : {};
      const body =
        contract.body && contract.bodyType !== 'text' ? jsonBody(event, contract.body) : undefined;
      const result = await implementation({
        event,
        context,
        params,
        query,
        body,
        ...extra,
      } as EndpointInput<P, Q, B> & Extra);
      return isResponse(result) ? result : json(200, result);
    },
  };
}

/**
 * A route anyone may call, or one that checks its caller itself (agents by key, gateways by
 * signature). @throws {Error} at build time for a route the contract reserves for users.
 */
export function endpoint<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends z.ZodMiniType | undefined,
  S extends z.ZodMiniType,
>(
  contract: ApiRoute<P, Q, B, S>,
  implementation: (input: EndpointInput<P, Q, B>) => Promise<z.input<S> | HttpResponse>,
): Route {
  if (contract.auth === 'session' || contract.auth === 'admin')
    throw new Error(`${contract.method} ${contract.path} needs a session: use sessionEndpoint`);
  return build(contract, async () => ({}), implementation);
}

/**
 * A route for signed-in users (`auth: 'session'`) or administrators (`auth: 'admin'`): the
 * session is checked first (401, or 403 for a user who is not an administrator) and handed to
 * the implementation.
 */
export function sessionEndpoint<
  P extends AnyObject | undefined,
  Q extends AnyObject | undefined,
  B extends z.ZodMiniType | undefined,
  S extends z.ZodMiniType,
>(
  broker: SessionBroker,
  contract: ApiRoute<P, Q, B, S>,
  implementation: (
    input: EndpointInput<P, Q, B> & { readonly session: Session },
  ) => Promise<z.input<S> | HttpResponse>,
): Route {
  if (contract.auth !== 'session' && contract.auth !== 'admin')
    throw new Error(`${contract.method} ${contract.path} is not a session route: use endpoint`);
  const check = contract.auth === 'admin' ? requireAdminSession : requireSession;
  return build(
    contract,
    async (event) => ({ session: await check(broker, event) }),
    implementation,
  );
}
