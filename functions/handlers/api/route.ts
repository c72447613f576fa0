/**
 * The HTTP API's contract, one entry per route: method, path, which Lambda serves it, who
 * may call it, and zod schemas for its path parameters, query, body and answer. Handlers
 * implement these entries (`http/endpoint.ts`), the OpenAPI document is generated from them,
 * tests walk them, and the web pages import their types. Data and schemas only: importing a
 * contract pulls in no handler code.
 */
import type * as z from '../../core/zod.ts';
import type { FunctionRoute } from '../routes.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Who may call a route. */
export type RouteAuth =
  /** anyone (health queries, sign-in) */
  | 'none'
  /** a signed-in user: `Authorization: Bearer <token>` or the session cookie */
  | 'session'
  /** a signed-in administrator */
  | 'admin'
  /** a desktop agent: `Authorization: Agent <key>` */
  | 'agent'
  /** a gateway: the request is signed with the gateway secret */
  | 'gateway';

type AnyObject = z.ZodMiniObject;

export interface ApiRoute<
  Params extends AnyObject | undefined = AnyObject | undefined,
  Query extends AnyObject | undefined = AnyObject | undefined,
  Body extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
  Response extends z.ZodMiniType = z.ZodMiniType,
> {
  readonly method: HttpMethod;
  /** The path, with `{name}` for each path parameter (OpenAPI's form, and middy's). */
  readonly path: string;
  /** The Lambda (handler file under functions/handlers/) that serves it. */
  readonly function: FunctionRoute['name'];
  readonly auth: RouteAuth;
  /** One line for the OpenAPI document. */
  readonly summary: string;
  readonly params?: Params;
  readonly query?: Query;
  /** The JSON body. Routes that take another format (YAML) say so in `bodyType`. */
  readonly body?: Body;
  /** `json` (default) or `text`: a body read as text (YAML or JSON) by the handler itself. */
  readonly bodyType?: 'json' | 'text';
  /** The 200 answer's JSON body, or its text when `responseType` is not JSON. */
  readonly response: Response;
  /** Content type of the answer when it is not JSON. */
  readonly responseType?: string;
  /** Other content types the 200 answer takes on request (downloads), as text. */
  readonly alternateTypes?: readonly string[];
  /** Error statuses the route answers besides 400 (bad input) and 500. */
  readonly errors?: readonly number[];
}

/** Declares a route, keeping its schema types for the handler and the web client. */
export function route<
  Params extends AnyObject | undefined = undefined,
  Query extends AnyObject | undefined = undefined,
  Body extends z.ZodMiniType | undefined = undefined,
  Response extends z.ZodMiniType = z.ZodMiniType,
>(r: ApiRoute<Params, Query, Body, Response>): ApiRoute<Params, Query, Body, Response> {
  return r;
}

/** The JSON answer of a route. */
export type ResponseOf<R> =
  R extends ApiRoute<infer _P, infer _Q, infer _B, infer S> ? z.output<S> : never;
/** The JSON body a route takes. */
export type BodyOf<R> =
  R extends ApiRoute<infer _P, infer _Q, infer B, infer _S>
    ? B extends z.ZodMiniType
      ? z.input<B>
      : never
    : never;
/** The query a route takes. */
export type QueryOf<R> =
  R extends ApiRoute<infer _P, infer Q, infer _B, infer _S>
    ? Q extends z.ZodMiniType
      ? z.input<Q>
      : never
    : never;
