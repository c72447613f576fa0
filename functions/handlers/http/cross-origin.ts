/**
 * Refuses state-changing requests that a browser sent from another site (cross-site request
 * forgery), on top of the session cookie's SameSite=Strict. The same rule as Go's
 * `http.CrossOriginProtection`: a browser says where a request comes from in `Sec-Fetch-Site`
 * (every current browser); older ones send `Origin`, which must name this host. A request with
 * neither is not from a browser page (curl, a desktop client, an agent) and cannot carry a
 * victim's cookie by accident. Requests with an `Authorization` header (bearer token, agent
 * key) carry no ambient credentials and are not checked.
 */
import type { ALBEvent } from 'aws-lambda';
import { ForbiddenError } from '../../core/errors.ts';
import { header } from './request.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** @throws {ForbiddenError} `cross_site_request` for a state-changing request from another site. */
export function checkCrossOrigin(event: ALBEvent): void {
  if (SAFE.has(event.httpMethod.toUpperCase())) return;
  if (header(event, 'authorization')) return;
  const site = header(event, 'sec-fetch-site');
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return;
    throw refused();
  }
  const origin = header(event, 'origin');
  if (origin === undefined) return;
  // Behind CloudFront the Host header is the load balancer's; CloudFront passes the one the
  // browser used as X-Forwarded-Host (a cross-site page cannot set that header without a
  // CORS preflight, which this API never grants).
  const host = header(event, 'x-forwarded-host') ?? header(event, 'host');
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw refused();
  }
  if (!host || originHost.toLowerCase() !== host.toLowerCase()) throw refused();
}

const refused = () =>
  new ForbiddenError(
    'cross_site_request',
    'this request came from another web site and was refused; use the broker’s own pages',
  );
