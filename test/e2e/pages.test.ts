/**
 * The pages as the local runtime serves them (CloudFront and S3 do it on AWS): the security
 * headers on every HTML answer, caching, compression, branding from DESKBROKER_HOME, nothing
 * outside web/dist, and the cross-site request check on state-changing API calls.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspHeader, DESKTOP_PAGE_CSP } from '../../functions/pages.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';

describe('the pages on the local runtime', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('serves the portal at / with a strict CSP and the other page headers', async () => {
    const res = await broker.fetch('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    // No inline script or style, and nothing from another origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves the HTML5 desktop page with its own CSP: WebSockets to gateways and WebAssembly only', async () => {
    const res = await broker.fetch('/desktop/12?protocol=vnc');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(cspHeader(DESKTOP_PAGE_CSP));
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await res.text()).toContain('/assets/desktop-');
    // The portal keeps the strict one.
    expect((await broker.fetch('/')).headers.get('content-security-policy')).toBe(cspHeader());
  });

  it('caches the hashed assets for a year, compresses them, and answers 304 to a known ETag', async () => {
    const html = await (await broker.fetch('/')).text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)![1]!;
    const res = await broker.fetch(script, { headers: { 'accept-encoding': 'br' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const again = await broker.fetch(script, {
      headers: { 'if-none-match': res.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });

  it('answers unknown paths with 404 (a page for browsers, JSON for others) and never leaves web/dist', async () => {
    const page = await broker.fetch('/no/such/page', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('Page not found');
    const api = await broker.fetch('/nothing-here.json');
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: 'not_found' });
    for (const sneaky of [
      '/..%2fpackage.json',
      '/%2e%2e/package.json',
      '/.built',
      '/assets/%00x',
      '/%zz',
    ]) {
      const res = await broker.fetch(sneaky);
      expect(res.status, sneaky).toBe(404);
      expect(await res.text(), sneaky).not.toContain('"name": "deskbroker"');
    }
  });

  it('serves branding files from DESKBROKER_HOME/branding, and 404 when there are none', async () => {
    expect((await broker.fetch('/branding/branding.json')).status).toBe(404);
    mkdirSync(path.join(broker.home, 'branding'), { recursive: true });
    writeFileSync(
      path.join(broker.home, 'branding', 'branding.json'),
      JSON.stringify({ title: 'Acme Desktops' }),
    );
    const res = await broker.fetch('/branding/branding.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.json()).toEqual({ title: 'Acme Desktops' });
    expect((await broker.fetch('/branding/../../package.json')).status).toBe(404);
  });

  it('refuses a state-changing call a browser sent from another site, and allows its own page and non-browser clients', async () => {
    const login = (headers: Record<string, string>) =>
      broker.fetch('/api/v1/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ username: 'alice', password: 'alice-demo-pass' }),
      });
    const crossSite = await login({ 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ error: 'cross_site_request' });
    const foreignOrigin = await login({ origin: 'https://evil.example' });
    expect(foreignOrigin.status).toBe(403);
    const host = new URL(broker.url).host;
    expect((await login({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await login({ origin: `http://${host}` })).status).toBe(200);
    expect((await login({})).status).toBe(200);
    // Reading is never refused: a cross-site GET carries no change.
    expect(
      (await broker.fetch('/api/v1/auth-servers', { headers: { 'sec-fetch-site': 'cross-site' } }))
        .status,
    ).toBe(200);
  });
});
