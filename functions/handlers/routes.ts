/**
 * Which Lambda serves which paths. The CDK app turns this table into ALB listener rules and
 * the local runtime into its dispatcher, so both route the same way. Data only: importing it
 * pulls in no handler code.
 */
export interface FunctionRoute {
  /** The handler file under functions/handlers/, without extension. */
  readonly name: 'health' | 'login' | 'offers' | 'agent' | 'admin' | 'gateway-api';
  /** ALB path patterns (`*` matches any characters). */
  readonly paths: readonly string[];
}

export const HTTP_FUNCTIONS: readonly FunctionRoute[] = [
  { name: 'health', paths: ['/index.pl'] },
  {
    name: 'login',
    paths: ['/api/v1/login', '/api/v1/logout', '/api/v1/auth-servers', '/api/v1/session'],
  },
  { name: 'offers', paths: ['/api/v1/offers', '/api/v1/offers/*'] },
  { name: 'agent', paths: ['/api/v1/agent/*'] },
  { name: 'admin', paths: ['/api/v1/admin/*', '/api/v1/openapi.json', '/metrics'] },
  { name: 'gateway-api', paths: ['/api/v1/gateway/*'] },
];

/** Matches a path against an ALB path pattern. */
export function matchesPattern(pattern: string, path: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(path);
}

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The function serving `path`, if any. */
export function functionFor(path: string): FunctionRoute | undefined {
  return HTTP_FUNCTIONS.find((f) => f.paths.some((p) => matchesPattern(p, path)));
}
