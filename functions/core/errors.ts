/**
 * Errors the broker shows to its callers. Each carries a snake_case code and an HTTP status;
 * the handlers' one error middleware turns them into `{ error, message }`. Anything that is
 * not an AppError is answered as a generic 500 and logged, never shown.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra response headers, such as `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields for the response body (for example a list of validation problems). */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      headers?: Record<string, string>;
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.details = options.details;
  }
}

/** 400: the request is malformed or fails validation. */
export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(400, code, message, { details });
    this.name = 'BadRequestError';
  }
}

/** 401: no valid credentials or session. */
export class UnauthorizedError extends AppError {
  constructor(code = 'unauthorized', message = 'sign in first') {
    super(401, code, message);
    this.name = 'UnauthorizedError';
  }
}

/** 403: signed in, but not allowed. */
export class ForbiddenError extends AppError {
  constructor(code = 'forbidden', message = 'you are not allowed to do that') {
    super(403, code, message);
    this.name = 'ForbiddenError';
  }
}

/** 404: the named thing does not exist (or is not yours to see). */
export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(404, code, message);
    this.name = 'NotFoundError';
  }
}

/** 409: the request conflicts with the current state. */
export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(409, code, message);
    this.name = 'ConflictError';
  }
}

/** 429: too many failed attempts; try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'too_many_attempts', message, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
    this.name = 'TooManyRequestsError';
  }
}

/** 503: the site database (or another backing service) does not answer. */
export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds = 5, cause?: unknown) {
    super(503, code, message, { headers: { 'Retry-After': String(retryAfterSeconds) }, cause });
    this.name = 'ServiceUnavailableError';
  }
}

/** The site database did not answer (connection refused, timeout, ...). Adapters throw it. */
export class DatabaseUnavailableError extends ServiceUnavailableError {
  constructor(message = 'the site database is not reachable', cause?: unknown) {
    super('site_database_unavailable', message, 5, cause);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * A stored secret (LDAP bind password, TOTP secret) cannot be opened on this broker: its key is
 * missing here (another key file, a KMS key it may not use) or the stored text was altered.
 */
export class SecretUnavailableError extends ServiceUnavailableError {
  constructor(cause?: unknown) {
    super(
      'secret_unavailable',
      'a stored secret cannot be decrypted on this broker; ask your administrator to check its encryption key',
      30,
      cause,
    );
    this.name = 'SecretUnavailableError';
  }
}

/** An authentication server (LDAP, AD) did not answer. */
export class AuthServerUnavailableError extends ServiceUnavailableError {
  constructor(server: string, cause?: unknown) {
    super(
      'auth_server_unavailable',
      `authentication server "${server}" is not reachable`,
      5,
      cause,
    );
    this.name = 'AuthServerUnavailableError';
  }
}

/**
 * A gateway's control API did not answer in time, or refused the call. `gatewayStatus` and
 * `gatewayCode` carry the gateway's own answer when there was one.
 */
export class GatewayUnavailableError extends ServiceUnavailableError {
  readonly gateway: string;
  readonly gatewayStatus?: number;
  readonly gatewayCode?: string;

  constructor(
    gateway: string,
    options: { reason?: string; status?: number; code?: string; cause?: unknown } = {},
  ) {
    super(
      'gateway_unavailable',
      `gateway "${gateway}" ${options.reason ?? 'is not reachable'}`,
      5,
      options.cause,
    );
    this.name = 'GatewayUnavailableError';
    this.gateway = gateway;
    this.gatewayStatus = options.status;
    this.gatewayCode = options.code;
  }
}
