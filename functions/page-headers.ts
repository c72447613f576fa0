/**
 * The headers every page (HTML) carries, locally and from CloudFront: a Content-Security-Policy
 * with no inline script or style and nothing from another origin, no framing, no referrer.
 * The local runtime's static server and the CDK app's response-headers policy both read them
 * from here, so the two cannot drift apart.
 */

/** The Content-Security-Policy of the pages, as directives. */
export const PAGE_CSP: Readonly<Record<string, string>> = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self'",
  'font-src': "'self'",
  'connect-src': "'self'",
  'manifest-src': "'self'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
};

/** The policy as a header value. */
export function cspHeader(directives: Readonly<Record<string, string>> = PAGE_CSP): string {
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ');
}

/** Every header a page answer carries besides its content type and caching. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': cspHeader(),
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
