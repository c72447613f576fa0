/**
 * The local runtime's stand-in for CloudFront and S3: serves the built pages (web/dist/) with
 * the page headers, and the site's branding files from `DESKBROKER_HOME/branding/`.
 *
 * - `/` is the portal, `/admin/...` the console, `/desktop/...` the HTML5 desktop page (each
 *   page routes within itself);
 * - `/assets/...` are content-hashed: cached for a year; pages are revalidated every time;
 * - answers are compressed (brotli or gzip) when the browser asks, with ETags;
 * - anything else is 404: the 404 page for browsers, JSON for other clients.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { pageFileFor, pageHeadersFor } from '../pages.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = /^(text\/|application\/(json|wasm)|image\/svg)/;

export interface StaticSite {
  /** Whether the built pages exist (`npm run build:web`). */
  readonly built: boolean;
  /** Answers the request if it is a page or a file; resolves false when it is not a GET/HEAD. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/** A path inside `root`, or undefined for one that leaves it or is not a plain file. */
function inside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  // No NULs, and no hidden files (the build stamp, editor leftovers).
  if (decoded.includes('\0') || /(^|\/)\./.test(decoded)) return undefined;
  const file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return undefined;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

export function createStaticSite(options: { root: string; brandingDir: string }): StaticSite {
  const root = path.resolve(options.root);
  const branding = path.resolve(options.brandingDir);
  const compressed = new Map<string, Buffer>();

  const pageFor = (urlPath: string): string | undefined => {
    const page = pageFileFor(urlPath);
    return page && inside(root, `/${page}`);
  };

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    status: number,
    cache: string,
  ) => {
    const stat = statSync(file);
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      'content-type': type,
      'cache-control': cache,
      etag,
      vary: 'accept-encoding',
      ...(type.startsWith('text/html')
        ? pageHeadersFor(path.relative(root, file).split(path.sep).join('/'))
        : { 'x-content-type-options': 'nosniff' }),
    };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const accepts = String(req.headers['accept-encoding'] ?? '');
    const encoding = !COMPRESSIBLE.test(type)
      ? undefined
      : /\bbr\b/.test(accepts)
        ? 'br'
        : /\bgzip\b/.test(accepts)
          ? 'gzip'
          : undefined;
    if (encoding) {
      const key = `${file}:${etag}:${encoding}`;
      let body = compressed.get(key);
      if (!body) {
        const raw = readFileSync(file);
        body = encoding === 'br' ? brotliCompressSync(raw) : gzipSync(raw);
        compressed.set(key, body);
      }
      res.writeHead(status, {
        ...headers,
        'content-encoding': encoding,
        'content-length': String(body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(status, { ...headers, 'content-length': String(stat.size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  };

  const notFound = (req: IncomingMessage, res: ServerResponse, urlPath: string) => {
    const page = inside(root, '/404.html');
    if (page && String(req.headers.accept ?? '').includes('text/html')) {
      send(req, res, page, 404, 'no-cache');
      return;
    }
    const body = JSON.stringify({ error: 'not_found', message: `no such endpoint: ${urlPath}` });
    res.writeHead(404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };

  return {
    built: existsSync(path.join(root, 'index.html')),
    async serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const urlPath = new URL(req.url ?? '/', 'http://local').pathname;
      if (urlPath.startsWith('/branding/')) {
        const file = inside(branding, urlPath.slice('/branding'.length));
        if (file) send(req, res, file, 200, 'no-cache');
        else notFound(req, res, urlPath);
        return true;
      }
      const page = pageFor(urlPath);
      if (page) {
        send(req, res, page, 200, 'no-cache');
        return true;
      }
      const file = inside(root, urlPath);
      if (file) {
        const hashed = urlPath.startsWith('/assets/');
        send(
          req,
          res,
          file,
          200,
          hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
        );
        return true;
      }
      notFound(req, res, urlPath);
      return true;
    },
  };
}
