/**
 * RDCleanPath (IronRDP's protocol for RDP through a WebSocket proxy, crate
 * `ironrdp-rdcleanpath`): the browser's first WebSocket message is a DER-encoded request
 * carrying its X.224 Connection Request and an authorization string (for us: the HTML5
 * ticket); the proxy connects to the RDP server, forwards the X.224 request, reads the
 * Connection Confirm, does the TLS handshake with the server itself, and answers with the
 * confirm and the server's certificate chain. From then on the WebSocket carries the RDP
 * stream in the clear (inside wss://) and the proxy relays it through its TLS connection.
 *
 * ```
 * RDCleanPathPdu ::= SEQUENCE {            -- every field [n] EXPLICIT
 *   version          [0] INTEGER,          -- 3390
 *   error            [1] RDCleanPathErr OPTIONAL,
 *   destination      [2] UTF8String OPTIONAL,
 *   proxyAuth        [3] UTF8String OPTIONAL,
 *   serverAuth       [4] UTF8String OPTIONAL,
 *   preconnectionPdu [5] UTF8String OPTIONAL,
 *   x224ConnectionPdu[6] OCTET STRING OPTIONAL,
 *   serverCertChain  [7] SEQUENCE OF OCTET STRING OPTIONAL,
 *   serverAddr       [9] UTF8String OPTIONAL }
 * RDCleanPathErr ::= SEQUENCE { errorCode [0] INTEGER, httpStatusCode [1] INTEGER OPTIONAL,
 *   wsaLastError [2] INTEGER OPTIONAL, tlsAlertCode [3] INTEGER OPTIONAL }
 * ```
 * DER is read and written with asn1js; every field of a request is checked here.
 */
import * as asn1 from 'asn1js';

/** RDCleanPath version 1 (3389 + 1). */
export const RDCLEANPATH_VERSION = 3390;
/** Largest request accepted (a real one is a few hundred bytes). */
export const MAX_REQUEST_BYTES = 16 * 1024;

const GENERAL_ERROR = 1;
const CONTEXT = 3;

export interface RDCleanPathRequest {
  readonly destination: string;
  /** The proxy authorization string: the HTML5 ticket. */
  readonly proxyAuth: string;
  /** The client's X.224 Connection Request (a TPKT). */
  readonly x224: Buffer;
  readonly preconnectionBlob?: string;
}

const explicit = (tagNumber: number, inner: asn1.AsnType) =>
  new asn1.Constructed({ idBlock: { tagClass: CONTEXT, tagNumber }, value: [inner] });

function fields(block: asn1.AsnType): Map<number, asn1.AsnType> | undefined {
  if (!(block instanceof asn1.Sequence)) return undefined;
  const out = new Map<number, asn1.AsnType>();
  for (const item of block.valueBlock.value) {
    if (!(item instanceof asn1.Constructed) || item.idBlock.tagClass !== CONTEXT) return undefined;
    const [inner, extra] = item.valueBlock.value;
    if (!inner || extra || out.has(item.idBlock.tagNumber)) return undefined;
    out.set(item.idBlock.tagNumber, inner);
  }
  return out;
}

const text = (b: asn1.AsnType | undefined, max: number): string | undefined =>
  b instanceof asn1.Utf8String && b.valueBlock.value.length <= max ? b.valueBlock.value : undefined;

/**
 * Reads a client's RDCleanPath request. Returns undefined for anything else: not DER, another
 * version, a missing or oversized field, a VMConnect request (no X.224), a response or error.
 */
export function decodeRequest(message: Buffer): RDCleanPathRequest | undefined {
  if (message.length === 0 || message.length > MAX_REQUEST_BYTES) return undefined;
  const parsed = asn1.fromBER(message, { maxDepth: 8, maxNodes: 64 });
  if (parsed.offset !== message.length) return undefined;
  const f = fields(parsed.result);
  const version = f?.get(0);
  if (
    !f ||
    !(version instanceof asn1.Integer) ||
    version.valueBlock.valueDec !== RDCLEANPATH_VERSION
  ) {
    return undefined;
  }
  if (f.has(1) || f.has(7) || f.has(9)) return undefined;
  const destination = text(f.get(2), 512);
  const proxyAuth = text(f.get(3), 4096);
  const x224 = f.get(6);
  if (destination === undefined || proxyAuth === undefined || !(x224 instanceof asn1.OctetString)) {
    return undefined;
  }
  const pdu = Buffer.from(x224.valueBlock.valueHexView);
  // A TPKT (version 3) whose length is the whole PDU: the X.224 Connection Request.
  if (pdu.length < 11 || pdu.length > 1024 || pdu[0] !== 3 || pdu.readUInt16BE(2) !== pdu.length) {
    return undefined;
  }
  const pcb = f.get(5);
  const preconnectionBlob = pcb === undefined ? undefined : text(pcb, 4096);
  if (pcb !== undefined && preconnectionBlob === undefined) return undefined;
  return { destination, proxyAuth, x224: pdu, ...(preconnectionBlob ? { preconnectionBlob } : {}) };
}

/** The proxy's answer: the server's X.224 Connection Confirm, its certificate chain, its address. */
export function encodeResponse(input: {
  x224: Buffer;
  certificateChain: readonly Buffer[];
  serverAddr: string;
}): Buffer {
  const pdu = new asn1.Sequence({
    value: [
      explicit(0, new asn1.Integer({ value: RDCLEANPATH_VERSION })),
      explicit(6, new asn1.OctetString({ valueHex: input.x224 })),
      explicit(
        7,
        new asn1.Sequence({
          value: input.certificateChain.map((c) => new asn1.OctetString({ valueHex: c })),
        }),
      ),
      explicit(9, new asn1.Utf8String({ value: input.serverAddr })),
    ],
  });
  return Buffer.from(pdu.toBER());
}

/**
 * A refusal the IronRDP client shows with its details: a general error with an HTTP status
 * (401: no valid ticket, 403: refused, 502: the desktop or the broker did not answer).
 */
export function encodeError(httpStatus: number): Buffer {
  const error = new asn1.Sequence({
    value: [
      explicit(0, new asn1.Integer({ value: GENERAL_ERROR })),
      explicit(1, new asn1.Integer({ value: httpStatus })),
    ],
  });
  const pdu = new asn1.Sequence({
    value: [explicit(0, new asn1.Integer({ value: RDCLEANPATH_VERSION })), explicit(1, error)],
  });
  return Buffer.from(pdu.toBER());
}
