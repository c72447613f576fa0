/**
 * What kind of failure an error from a backing service is (connection refused, login rejected,
 * no answer in time, ...), read from the error codes of Node's sockets, PostgreSQL (SQLSTATE),
 * the AWS SDK and ldapts. The kind is safe to show anyone; the error itself (which names
 * addresses, ports, accounts and databases) is only for the log.
 */
import { FAILURE_KINDS, type FailureKind, ProbeFailure } from '../core/health.ts';

const BY_CODE: Readonly<Record<string, FailureKind>> = {
  ECONNREFUSED: 'connection_refused',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'host_unreachable',
  EHOSTDOWN: 'host_unreachable',
  ENOTFOUND: 'name_not_resolved',
  EAI_AGAIN: 'name_not_resolved',
  ECONNRESET: 'connection_lost',
  EPIPE: 'connection_lost',
  ECONNABORTED: 'connection_lost',
  // PostgreSQL SQLSTATEs (appendix A of its manual).
  '28P01': 'login_rejected',
  '28000': 'login_rejected',
  '3D000': 'no_such_database',
  '57P01': 'starting_up',
  '57P02': 'starting_up',
  '57P03': 'starting_up',
  '53300': 'too_many_connections',
  '57014': 'timeout',
};

const BY_NAME: Readonly<Record<string, FailureKind>> = {
  TimeoutError: 'timeout',
  // RDS Data API and other AWS SDK errors.
  DatabaseResumingException: 'starting_up',
  DatabaseNotFoundException: 'no_such_database',
  AccessDeniedException: 'login_rejected',
  ForbiddenException: 'login_rejected',
  UnrecognizedClientException: 'login_rejected',
  // ldapts: a rejected service-account bind (result code 49).
  InvalidCredentialsError: 'login_rejected',
  SecretUnavailableError: 'secret_unavailable',
};

const BY_MESSAGE: readonly [RegExp, FailureKind][] = [
  [/timed? ?out|did not answer .*within|timeout/i, 'timeout'],
  [/password authentication failed|authentication failed|no pg_hba\.conf entry/i, 'login_rejected'],
  [/database ".*" does not exist/i, 'no_such_database'],
  [/the database system is (starting|shutting) up/i, 'starting_up'],
  [/too many clients/i, 'too_many_connections'],
  [/certificate|SSL|TLS/i, 'tls'],
  [
    /Connection terminated|Connection closed|socket hang up|PGlite is closed|not established/i,
    'connection_lost',
  ],
];

/** A PostgreSQL SQLSTATE (`42P01`, `XX000`), not a Node errno (`EPIPE`). */
const isSqlState = (code: string) =>
  /^[0-9A-Z]{5}$/.test(code) && (code.match(/[0-9]/g)?.length ?? 0) >= 3;

/** The kind of `e`, looking through its `cause` chain; `unknown` when nothing tells. */
export function failureKind(e: unknown): FailureKind {
  const chain: unknown[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && chain.length < 8; ) {
    chain.push(c);
    c = (c as { cause?: unknown }).cause;
  }
  // The innermost error is the most specific (a driver's errno under our wrappers).
  for (const c of chain.reverse()) {
    if (c instanceof ProbeFailure && c.kind !== 'unknown') return c.kind;
    const err = c as { code?: unknown; name?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    const byCode = BY_CODE[code];
    if (byCode) return byCode;
    if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO)/.test(code)) return 'tls';
    if (isSqlState(code)) return 'query_failed';
    const byName = typeof err.name === 'string' ? BY_NAME[err.name] : undefined;
    if (byName) return byName;
  }
  for (const c of chain) {
    const message = c instanceof Error ? c.message : String(c);
    const found = BY_MESSAGE.find(([pattern]) => pattern.test(message));
    if (found) return found[1];
  }
  return 'unknown';
}

/** `e` as a {@link ProbeFailure} of its kind (the original error kept as the cause). */
export function asProbeFailure(e: unknown): ProbeFailure {
  return e instanceof ProbeFailure ? e : new ProbeFailure(failureKind(e), e);
}

/** The kind of `e` in words, for messages shown to callers. */
export const failureText = (e: unknown): string => FAILURE_KINDS[failureKind(e)];
