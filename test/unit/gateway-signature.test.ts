import { describe, expect, it } from 'vitest';
import {
  createMemoryNonceStore,
  createRequestVerifier,
  LOGIN_TAG_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  signLoginTag,
  signRequest,
  TIMESTAMP_HEADER,
  verifyLoginTag,
} from '../../functions/core/gateways/signature.ts';

const secret = 'a-shared-secret-of-some-length';
const body = JSON.stringify({ key: 'k1', desktopHost: '10.0.0.5', desktopPort: 3389 });
const now = 1_760_000_000_000;

function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}) {
  const input = { secret, method: 'POST', path: '/forwards', body, now, ...overrides };
  return { input, headers: signRequest(input) };
}

describe('signRequest', () => {
  it('makes a timestamp, a 128-bit hex nonce and a hex HMAC-SHA256', async () => {
    const { headers } = signed();
    expect(headers[TIMESTAMP_HEADER]).toBe(String(now));
    expect(headers[NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
    expect(headers[SIGNATURE_HEADER]).toMatch(/^[0-9a-f]{64}$/);
    expect(signed().headers[NONCE_HEADER]).not.toBe(headers[NONCE_HEADER]);
  });
});

describe('createRequestVerifier', () => {
  it('accepts a valid request, once', async () => {
    const verifier = createRequestVerifier({ secret });
    const { headers } = signed();
    const request = { method: 'POST', path: '/forwards', body, headers, now: now + 1000 };
    expect(await verifier.verify(request)).toEqual({ ok: true });
    expect(await verifier.verify(request)).toEqual({ ok: false, reason: 'replayed_nonce' });
  });

  it('accepts a body given as bytes and a lowercase method', async () => {
    const verifier = createRequestVerifier({ secret });
    const { headers } = signed();
    expect(
      await verifier.verify({
        method: 'post',
        path: '/forwards',
        body: Buffer.from(body),
        headers,
        now,
      }),
    ).toEqual({ ok: true });
  });

  it('accepts a GET without a body, signed without one', async () => {
    const verifier = createRequestVerifier({ secret });
    const headers = signRequest({ secret, method: 'GET', path: '/forwards?x=1', now });
    expect(
      await verifier.verify({
        method: 'GET',
        path: '/forwards?x=1',
        body: Buffer.alloc(0),
        headers,
        now,
      }),
    ).toEqual({ ok: true });
  });

  it('refuses a request without signature headers', async () => {
    const verifier = createRequestVerifier({ secret });
    expect(await verifier.verify({ method: 'GET', path: '/info', headers: {}, now })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    const { headers } = signed();
    const { [SIGNATURE_HEADER]: _dropped, ...rest } = headers;
    expect(
      await verifier.verify({ method: 'POST', path: '/forwards', body, headers: rest, now }),
    ).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('refuses a signature made with another secret', async () => {
    const verifier = createRequestVerifier({ secret });
    const { headers } = signed({ secret: 'not-the-shared-secret-at-all' });
    expect(
      await verifier.verify({ method: 'POST', path: '/forwards', body, headers, now }),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a forged signature value and malformed headers', async () => {
    const verifier = createRequestVerifier({ secret });
    const { headers } = signed();
    const flipped = headers[SIGNATURE_HEADER].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(
      await verifier.verify({
        method: 'POST',
        path: '/forwards',
        body,
        headers: { ...headers, [SIGNATURE_HEADER]: flipped },
        now,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' });
    expect(
      await verifier.verify({
        method: 'POST',
        path: '/forwards',
        body,
        headers: { ...headers, [SIGNATURE_HEADER]: 'abc' },
        now,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' });
    expect(
      await verifier.verify({
        method: 'POST',
        path: '/forwards',
        body,
        headers: { ...headers, [NONCE_HEADER]: 'not-hex' },
        now,
      }),
    ).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('refuses a tampered body, path, method or timestamp', async () => {
    const verifier = createRequestVerifier({ secret });
    const { headers } = signed();
    const tamperedBody = body.replace('3389', '22');
    expect(
      await verifier.verify({
        method: 'POST',
        path: '/forwards',
        body: tamperedBody,
        headers,
        now,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' });
    expect(
      await verifier.verify({ method: 'POST', path: '/forwards/k1', body, headers, now }),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      await verifier.verify({ method: 'POST', path: '/forwards?a=1', body, headers, now }),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      await verifier.verify({ method: 'DELETE', path: '/forwards', body, headers, now }),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      await verifier.verify({
        method: 'POST',
        path: '/forwards',
        body,
        headers: { ...headers, [TIMESTAMP_HEADER]: String(now + 1) },
        now,
      }),
    ).toEqual({ ok: false, reason: 'bad_signature' });
    // None of the refused attempts used up the nonce: the genuine request still passes.
    expect(
      await verifier.verify({ method: 'POST', path: '/forwards', body, headers, now }),
    ).toEqual({
      ok: true,
    });
  });

  it('refuses timestamps outside the window, both ways', async () => {
    const verifier = createRequestVerifier({ secret, windowMs: 60_000 });
    const request = (signedAt: number) => ({
      method: 'GET',
      path: '/info',
      headers: signRequest({ secret, method: 'GET', path: '/info', now: signedAt }),
      now,
    });
    expect(await verifier.verify(request(now - 61_000))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(await verifier.verify(request(now + 61_000))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(await verifier.verify(request(now - 59_000))).toEqual({ ok: true });
    expect(await verifier.verify(request(now + 59_000))).toEqual({ ok: true });
  });

  it('forgets nonces once they would be stale anyway, and bounds their number', async () => {
    const nonces = createMemoryNonceStore(3);
    const verifier = createRequestVerifier({ secret, windowMs: 1_000, nonces });
    const request = (at: number) => ({
      method: 'GET',
      path: '/info',
      headers: signRequest({ secret, method: 'GET', path: '/info', now: at }),
      now: at,
    });
    for (let i = 0; i < 3; i++) expect(await verifier.verify(request(now))).toEqual({ ok: true });
    expect(nonces.size).toBe(3);
    // Full: refused, never let through unremembered.
    expect(await verifier.verify(request(now))).toEqual({ ok: false, reason: 'nonce_cache_full' });
    // After 2 windows the old nonces are forgotten and new requests pass again.
    expect(await verifier.verify(request(now + 2_001))).toEqual({ ok: true });
    expect(nonces.size).toBe(1);
  });

  it('a replayed request stays refused for as long as its timestamp is accepted', async () => {
    const verifier = createRequestVerifier({ secret, windowMs: 60_000 });
    const headers = signRequest({ secret, method: 'GET', path: '/info', now: now + 60_000 });
    // Seen early (the signer's clock is ahead) ...
    expect(await verifier.verify({ method: 'GET', path: '/info', headers, now })).toEqual({
      ok: true,
    });
    // ... replayed at the very end of its window: still remembered.
    expect(
      await verifier.verify({ method: 'GET', path: '/info', headers, now: now + 119_999 }),
    ).toEqual({
      ok: false,
      reason: 'replayed_nonce',
    });
  });
});

describe('login tag', () => {
  it('names the header', async () => {
    expect(LOGIN_TAG_HEADER).toBe('x-deskbroker-gateway');
  });

  it('round-trips the gateway and client IP', async () => {
    const value = signLoginTag({
      secret,
      gateway: 'Asia Gateway 1',
      clientIp: '10.254.251.104',
      now,
    });
    expect(verifyLoginTag({ secret, value, now: now + 5_000, windowMs: 60_000 })).toEqual({
      gateway: 'Asia Gateway 1',
      clientIp: '10.254.251.104',
      tags: [],
    });
  });

  it("vouches for a registered gateway's tags, and refuses them altered or malformed", async () => {
    const value = signLoginTag({
      secret,
      gateway: 'ip-10-0-1-5',
      clientIp: '198.51.100.4',
      tags: ['asia', 'web_2'],
      now,
    });
    expect(verifyLoginTag({ secret, value, now, windowMs: 60_000 })).toEqual({
      gateway: 'ip-10-0-1-5',
      clientIp: '198.51.100.4',
      tags: ['asia', 'web_2'],
    });
    // A proxy that adds a tag, drops one, or strips the list breaks the signature.
    const added = value.replace('tags=asia%2Cweb_2', 'tags=asia%2Cweb_2%2Ceurope');
    const dropped = value.replace('tags=asia%2Cweb_2', 'tags=asia');
    const stripped = value.replace(';tags=asia%2Cweb_2', '');
    for (const altered of [added, dropped, stripped]) {
      expect(altered).not.toBe(value);
      expect(verifyLoginTag({ secret, value: altered, now, windowMs: 60_000 })).toBeUndefined();
    }
    // A tag that no gateway could register is refused even when signed.
    const odd = signLoginTag({
      secret,
      gateway: 'gw',
      clientIp: '198.51.100.4',
      tags: ['a b'],
      now,
    });
    expect(verifyLoginTag({ secret, value: odd, now, windowMs: 60_000 })).toBeUndefined();
  });

  it('is undefined when unsigned, forged, altered or stale', async () => {
    const value = signLoginTag({ secret, gateway: 'gw1', clientIp: '10.0.0.7', now });
    expect(verifyLoginTag({ secret, value: undefined, now, windowMs: 60_000 })).toBeUndefined();
    expect(verifyLoginTag({ secret, value: 'gw1', now, windowMs: 60_000 })).toBeUndefined();
    expect(
      verifyLoginTag({ secret: 'another-secret-entirely', value, now, windowMs: 60_000 }),
    ).toBeUndefined();
    const forged = signLoginTag({
      secret: 'attacker-guess-secret',
      gateway: 'gw1',
      clientIp: '10.0.0.7',
      now,
    });
    expect(verifyLoginTag({ secret, value: forged, now, windowMs: 60_000 })).toBeUndefined();
    const otherIp = value.replace('ip=10.0.0.7', 'ip=10.0.0.8');
    expect(verifyLoginTag({ secret, value: otherIp, now, windowMs: 60_000 })).toBeUndefined();
    const otherGateway = value.replace('gw=gw1', 'gw=gw2');
    expect(verifyLoginTag({ secret, value: otherGateway, now, windowMs: 60_000 })).toBeUndefined();
    expect(verifyLoginTag({ secret, value, now: now + 60_001, windowMs: 60_000 })).toBeUndefined();
    expect(
      verifyLoginTag({ secret, value: [value, value], now, windowMs: 60_000 }),
    ).toBeUndefined();
  });

  it('does not accept a request signature as a login tag', async () => {
    const headers = signRequest({ secret, method: 'GET', path: '/', now });
    const value = `v1;gw=gw1;ip=10.0.0.7;ts=${now};sig=${headers[SIGNATURE_HEADER]}`;
    expect(verifyLoginTag({ secret, value, now, windowMs: 60_000 })).toBeUndefined();
  });
});
