/**
 * The one client of the broker's HTTP API that the pages use. Types come from the API
 * contract (functions/handlers/api/) by `import type`, so no schema code reaches the browser.
 *
 * Sessions: the broker sets an HttpOnly, Secure, SameSite=Strict cookie at sign-in, and the
 * page relies on it (same origin, `credentials: 'same-origin'`). Browsers accept Secure
 * cookies on http://localhost and http://127.0.0.1; where one does not, the first call after
 * sign-in comes back 401 and the client falls back to the token from the sign-in answer,
 * kept in memory only (never in storage), as a bearer token.
 */
import type { BodyOf, QueryOf, ResponseOf } from '../../../functions/handlers/api/route.ts';

/** An answer other than 2xx, with the API's `{ error, message }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds from the `Retry-After` header (429, 503), if any. */
  readonly retryAfterSeconds: number | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    retryAfterSeconds?: number,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.details = details;
  }
}

/** The broker did not answer at all (network down, broker stopped). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('the broker did not answer', { cause });
    this.name = 'NetworkError';
  }
}

let bearer: string | undefined;
let useBearer = false;

/** Remembers the sign-in token for the bearer fallback (memory only), or forgets it. */
export function rememberToken(token: string | undefined): void {
  bearer = token;
  if (!token) useBearer = false;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly query?: Record<string, string | number | boolean | undefined>;
  /** A body sent as it is (YAML), with this content type. */
  readonly text?: { readonly content: string; readonly type: string };
  readonly signal?: AbortSignal;
}

/** Calls the API; resolves the parsed JSON (or text) answer. @throws {ApiError | NetworkError} */
export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {}))
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const send = async (withBearer: boolean) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (options.text) {
      headers['content-type'] = options.text.type;
      body = options.text.content;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (withBearer && bearer) headers.authorization = `Bearer ${bearer}`;
    try {
      return await fetch(url, {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: options.signal,
      });
    } catch (e: unknown) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new NetworkError(e);
    }
  };
  let res = await send(useBearer);
  if (res.status === 401 && bearer && !useBearer) {
    // The cookie did not come back: this browser refused it. Carry on with the token.
    const retry = await send(true);
    if (retry.status !== 401) useBearer = true;
    res = retry;
  }
  return parse<T>(res);
}

async function parse<T>(res: Response): Promise<T> {
  const type = res.headers.get('content-type') ?? '';
  const payload: unknown = type.includes('json')
    ? await res.json().catch(() => ({}))
    : await res.text();
  if (res.ok) return payload as T;
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  const retry = Number(res.headers.get('retry-after'));
  const { error, message, ...details } = body;
  throw new ApiError(
    res.status,
    typeof error === 'string' ? error : `http_${res.status}`,
    typeof message === 'string' ? message : res.statusText,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
    details,
  );
}

/** Typed shorthands for a contract entry: `Answer<typeof loginRoute>` and so on. */
export type Answer<R> = ResponseOf<R>;
export type Body<R> = BodyOf<R>;
export type Query<R> = QueryOf<R>;
