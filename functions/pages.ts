/**
 * The pages as every server of them must serve them, locally (functions/local/static-site.ts)
 * and from S3 behind CloudFront (lib/constructs/portal.ts), read from here by both so they
 * cannot drift apart: which path is which page, and the headers every page carries (a
 * Content-Security-Policy with no inline script or style and nothing from another origin, no
 * framing, no referrer).
 */

/**
 * Pages that route within themselves: every path under the prefix without a file extension is
 * the page's HTML. `/` (and `/index.html`) is the portal.
 */
export const PAGE_ROUTES = [
  { prefix: '/admin', file: 'admin/index.html' },
  { prefix: '/desktop', file: 'desktop/index.html' },
] as const;

/** The HTML file (under web/dist/) a path is, or undefined for anything else. */
export function pageFileFor(urlPath: string): string | undefined {
  if (urlPath === '/' || urlPath === '/index.html') return 'index.html';
  if (/\.[^/]*$/.test(urlPath)) return undefined;
  for (const page of PAGE_ROUTES) {
    if (urlPath === page.prefix || urlPath.startsWith(`${page.prefix}/`)) return page.file;
  }
  return undefined;
}

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

/**
 * The HTML5 desktop page's policy: the portal's, plus what showing a desktop needs and nothing
 * else. `connect-src ws: wss:`: the page opens a WebSocket to a gateway, whose address (another
 * host or port than the page's) comes from the site configuration at run time, so it cannot be
 * listed in a header fixed at deploy time; only WebSockets (no fetch) may leave the origin, and
 * no script can come from elsewhere to use them. `'wasm-unsafe-eval'`: compiling IronRDP's
 * WebAssembly (RDP); it allows no JavaScript eval. `img-src data: blob:`: noVNC draws the
 * desktop's cursor and its JPEG rectangles from images it makes in the page.
 */
export const DESKTOP_PAGE_CSP: Readonly<Record<string, string>> = {
  ...PAGE_CSP,
  'script-src': "'self' 'wasm-unsafe-eval'",
  'img-src': "'self' data: blob:",
  'connect-src': "'self' ws: wss:",
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

/** The HTML5 desktop page's headers: its own policy (and the clipboard for this origin). */
export const DESKTOP_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...PAGE_HEADERS,
  'content-security-policy': cspHeader(DESKTOP_PAGE_CSP),
  'permissions-policy':
    'camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(self), clipboard-write=(self)',
};

/** The headers of a page's HTML (its file under web/dist/). */
export function pageHeadersFor(file: string): Readonly<Record<string, string>> {
  return file === 'desktop/index.html' ? DESKTOP_PAGE_HEADERS : PAGE_HEADERS;
}
