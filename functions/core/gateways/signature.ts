/**
 * Signing between the broker and its gateways, with a shared secret (HMAC-SHA256).
 *
 * - Control requests (broker → gateway control API, gateway → broker forward list) carry
 *   three headers: a timestamp (epoch ms), a random 128-bit nonce and an HMAC over
 *   `METHOD\npath-with-query\ntimestamp\nnonce\nsha256hex(body)`. The receiver rejects a
 *   missing or forged signature, a timestamp outside its window, and a nonce it has seen
 *   (in a {@link NonceStore}: the broker's is the state table, shared by all its instances).
 * - The login tag: the gateway's reverse proxy adds {@link LOGIN_TAG_HEADER} to each login it
 *   forwards, naming itself and the client's IP, signed, so the broker can trust "login
 *   gateway" as a location attribute. An unsigned, forged or stale tag reads as no tag.
 *
 * Pure: node:crypto only; the nonce store is a port.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NonceStore } from './ports.ts';

/** Request header: epoch milliseconds when the request was signed. */
export const TIMESTAMP_HEADER = 'x-deskbroker-timestamp';
/** Request header: random 128-bit nonce, 32 lowercase hex digits. */
export const NONCE_HEADER = 'x-deskbroker-nonce';
/** Request header: hex HMAC-SHA256 of the canonical request. */
export const SIGNATURE_HEADER = 'x-deskbroker-signature';
/** Header a gateway adds to the logins it forwards (see {@link signLoginTag}). */
export const LOGIN_TAG_HEADER = 'x-deskbroker-gateway';

/** Default accepted clock difference, both ways, in milliseconds. */
export const DEFAULT_SIGNATURE_WINDOW_MS = 60_000;

/** The three signature headers, lowercase names (a plain record: spreads into fetch headers). */
export type SignedHeaders = {
  readonly 'x-deskbroker-timestamp': string;
  readonly 'x-deskbroker-nonce': string;
  readonly 'x-deskbroker-signature': string;
};

/** A request body as sent on the wire; absent or empty for GET and DELETE. */
export type SignableBody = string | Uint8Array | undefined;

const NONCE_RE = /^[0-9a-f]{32}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
const TIMESTAMP_RE = /^\d{1,16}$/;

function sha256Hex(body: SignableBody): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time (for equal lengths). */
function sameHex(expected: string, given: string): boolean {
  if (!HEX64_RE.test(given)) return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The text that is signed: `METHOD\npath-with-query\ntimestamp\nnonce\nsha256hex(body)`.
 * The method is upper-cased; the path is used exactly as sent (`/forwards?x=1`).
 */
export function canonicalRequest(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  body: SignableBody,
): string {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${sha256Hex(body)}`;
}

/**
 * Signs one request. Send the returned headers with it, and the body byte for byte as signed.
 * `path` is the request target: path plus query string, no scheme or host.
 */
export function signRequest(input: {
  secret: string;
  method: string;
  path: string;
  body?: SignableBody;
  now?: number;
}): SignedHeaders {
  const timestamp = String(Math.trunc(input.now ?? Date.now()));
  const nonce = randomBytes(16).toString('hex');
  const signature = hmacHex(
    input.secret,
    canonicalRequest(input.method, input.path, timestamp, nonce, input.body),
  );
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: signature,
  };
}

/** Why a request was refused. */
export type VerifyFailure =
  | 'missing_signature'
  | 'malformed_signature'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'replayed_nonce'
  | 'nonce_cache_full'
  | 'nonce_store_unavailable';

export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/** Request headers as node:http gives them (lowercase names) or a plain record. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Nonces in this process's memory, at most `maxNonces` at a time: for a verifier that runs in
 * one process only (a gateway's control API).
 */
export function createMemoryNonceStore(
  maxNonces = 100_000,
): NonceStore & { readonly size: number } {
  // nonce → epoch ms after which it may be forgotten. Insertion order is (nearly) expiry
  // order because every entry lives for the same 2 × window after it was seen.
  const seen = new Map<string, number>();
  return {
    get size() {
      return seen.size;
    },
    async remember(nonce, until, now) {
      for (const [old, expiry] of seen) {
        if (expiry > now) break;
        seen.delete(old);
      }
      if (seen.has(nonce)) return 'seen';
      if (seen.size >= maxNonces) return 'full';
      seen.set(nonce, until);
      return 'new';
    },
  };
}

/** Checks signed requests; remembers nonces for replay protection. */
export interface RequestVerifier {
  /**
   * Verifies one request. Never rejects. A request that passes has its nonce remembered,
   * so the same signed request is refused the second time, by every verifier sharing the
   * nonce store.
   */
  verify(input: {
    method: string;
    path: string;
    body?: SignableBody;
    headers: HeaderBag;
    now?: number;
  }): Promise<VerifyResult>;
}

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  // A repeated signature header is ambiguous: refuse rather than pick one.
  return undefined;
}

/**
 * Makes a verifier for requests signed with `secret`. Timestamps more than `windowMs` away
 * from `now` (either way) are refused; nonces are remembered in `nonces` (by default this
 * process's memory) until a request carrying them would be stale anyway.
 */
export function createRequestVerifier(options: {
  secret: string;
  windowMs?: number;
  nonces?: NonceStore;
}): RequestVerifier {
  const { secret } = options;
  const windowMs = options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  const nonces = options.nonces ?? createMemoryNonceStore();

  return {
    async verify({ method, path, body, headers, now: at }): Promise<VerifyResult> {
      const now = at ?? Date.now();
      const timestamp = header(headers, TIMESTAMP_HEADER);
      const nonce = header(headers, NONCE_HEADER);
      const signature = header(headers, SIGNATURE_HEADER);
      if (timestamp === undefined || nonce === undefined || signature === undefined) {
        return { ok: false, reason: 'missing_signature' };
      }
      if (!TIMESTAMP_RE.test(timestamp) || !NONCE_RE.test(nonce)) {
        return { ok: false, reason: 'malformed_signature' };
      }
      const expected = hmacHex(secret, canonicalRequest(method, path, timestamp, nonce, body));
      if (!sameHex(expected, signature.toLowerCase()))
        return { ok: false, reason: 'bad_signature' };
      if (Math.abs(now - Number(timestamp)) > windowMs) {
        return { ok: false, reason: 'stale_timestamp' };
      }
      // A request signed at t is accepted until t + window, and t ≥ now - window.
      let remembered: 'new' | 'seen' | 'full';
      try {
        remembered = await nonces.remember(nonce, now + 2 * windowMs, now);
      } catch {
        // The store cannot say whether it is a replay: refuse rather than let it through.
        return { ok: false, reason: 'nonce_store_unavailable' };
      }
      if (remembered === 'seen') return { ok: false, reason: 'replayed_nonce' };
      if (remembered === 'full') return { ok: false, reason: 'nonce_cache_full' };
      return { ok: true };
    },
  };
}

const LOGIN_TAG_VERSION = 'v1';

function loginTagText(
  gateway: string,
  clientIp: string,
  timestamp: string,
  tags: readonly string[],
): string {
  // Domain-separated from request signatures, so one can never stand in for the other.
  const text = `deskbroker-login-tag\n${gateway}\n${clientIp}\n${timestamp}`;
  return tags.length > 0 ? `${text}\ntags:${tags.join(',')}` : text;
}

/** A gateway tag, as GATEWAY_TAGS and the registration contract allow it. */
const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The value of {@link LOGIN_TAG_HEADER} for one forwarded login:
 * `v1;gw=<gateway, URI-encoded>;ip=<client IP>[;tags=<a,b>];ts=<epoch ms>;sig=<hex HMAC>`.
 * `tags` are the tags a registered gateway has (its tag clusters), signed with the rest.
 */
export function signLoginTag(input: {
  secret: string;
  gateway: string;
  clientIp: string;
  tags?: readonly string[];
  now?: number;
}): string {
  const tags = input.tags ?? [];
  const timestamp = String(Math.trunc(input.now ?? Date.now()));
  const sig = hmacHex(input.secret, loginTagText(input.gateway, input.clientIp, timestamp, tags));
  return [
    LOGIN_TAG_VERSION,
    `gw=${encodeURIComponent(input.gateway)}`,
    `ip=${encodeURIComponent(input.clientIp)}`,
    ...(tags.length > 0 ? [`tags=${encodeURIComponent(tags.join(','))}`] : []),
    `ts=${timestamp}`,
    `sig=${sig}`,
  ].join(';');
}

/**
 * Reads a login tag. Returns the gateway, client IP and gateway tags it vouches for, or
 * undefined when the value is absent, malformed, forged (wrong secret or altered) or
 * older/newer than `windowMs` (default 60 s). Never throws.
 */
export function verifyLoginTag(input: {
  secret: string;
  value: string | readonly string[] | undefined;
  now?: number;
  windowMs?: number;
}): { gateway: string; clientIp: string; tags: string[] } | undefined {
  const { value } = input;
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  const [version, ...parts] = value.split(';');
  if (version !== LOGIN_TAG_VERSION) return undefined;
  const fields = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const name = part.slice(0, eq);
    if (fields.has(name)) return undefined;
    fields.set(name, part.slice(eq + 1));
  }
  const gw = fields.get('gw');
  const ip = fields.get('ip');
  const ts = fields.get('ts');
  const sig = fields.get('sig');
  if (gw === undefined || ip === undefined || ts === undefined || sig === undefined) {
    return undefined;
  }
  if (!TIMESTAMP_RE.test(ts)) return undefined;
  let gateway: string;
  let clientIp: string;
  let tags: string[];
  try {
    gateway = decodeURIComponent(gw);
    clientIp = decodeURIComponent(ip);
    const tagList = fields.get('tags');
    tags = tagList === undefined ? [] : decodeURIComponent(tagList).split(',');
  } catch {
    return undefined;
  }
  if (!gateway || !clientIp || !tags.every((t) => TAG_RE.test(t))) return undefined;
  const expected = hmacHex(input.secret, loginTagText(gateway, clientIp, ts, tags));
  if (!sameHex(expected, sig.toLowerCase())) return undefined;
  const now = input.now ?? Date.now();
  if (Math.abs(now - Number(ts)) > (input.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS)) {
    return undefined;
  }
  return { gateway, clientIp, tags };
}
