import * as asn1 from 'asn1js';
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  encodeError,
  encodeResponse,
  RDCLEANPATH_VERSION,
} from '../../functions/gateway/rdcleanpath.ts';

/** The X.224 Connection Request IronRDP's web client sent to xrdp in the evaluation. */
const X224 = Buffer.from(
  '0300002d28e00000000000436f6f6b69653a206d737473686173683d7264706576616c0d0a010008000b000000',
  'hex',
);

const explicit = (tagNumber: number, inner: asn1.AsnType) =>
  new asn1.Constructed({ idBlock: { tagClass: 3, tagNumber }, value: [inner] });

/** A request as IronRDP builds it (ironrdp-rdcleanpath RDCleanPathPdu::new_request). */
function request(
  fields: { version?: number; auth?: string; x224?: Buffer; extra?: number[] } = {},
) {
  const value = [
    explicit(0, new asn1.Integer({ value: fields.version ?? RDCLEANPATH_VERSION })),
    explicit(2, new asn1.Utf8String({ value: 'desk-01' })),
    ...(fields.auth === undefined
      ? []
      : [explicit(3, new asn1.Utf8String({ value: fields.auth }))]),
    explicit(6, new asn1.OctetString({ valueHex: fields.x224 ?? X224 })),
    ...(fields.extra ?? []).map((n) => explicit(n, new asn1.Utf8String({ value: 'x' }))),
  ];
  return Buffer.from(new asn1.Sequence({ value }).toBER());
}

describe('RDCleanPath', () => {
  it('reads a client request: destination, the ticket as proxy authorization, the X.224 request', () => {
    expect(decodeRequest(request({ auth: 'v1.ticket' }))).toEqual({
      destination: 'desk-01',
      proxyAuth: 'v1.ticket',
      x224: X224,
    });
  });

  it('refuses what is not a well-formed request', () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from('not DER at all'),
      request({ auth: 't', version: 3389 }),
      request(), // no proxy authorization
      request({ auth: 't', x224: Buffer.from('0300000a', 'hex') }), // TPKT length ≠ size
      request({ auth: 't', extra: [7] }), // a response field
      Buffer.concat([request({ auth: 't' }), Buffer.from([0])]), // trailing byte
      Buffer.alloc(20_000, 0x30),
    ];
    for (const b of bad) expect(decodeRequest(b)).toBeUndefined();
  });

  it('writes the response and errors IronRDP reads (version, X.224 confirm, chain, address; HTTP status)', () => {
    const response = asn1.fromBER(
      encodeResponse({
        x224: Buffer.from('030000130ed000001234000201080001000000', 'hex'),
        certificateChain: [Buffer.from('cert-1'), Buffer.from('cert-2')],
        serverAddr: '10.0.0.5:3389',
      }),
    ).result as asn1.Sequence;
    const tags = response.valueBlock.value.map((b) => b.idBlock.tagNumber);
    const error = asn1.fromBER(encodeError(403)).result as asn1.Sequence;
    const [, err] = error.valueBlock.value as asn1.Constructed[];
    const status = (err!.valueBlock.value[0] as asn1.Sequence).valueBlock
      .value[1] as asn1.Constructed;

    expect(tags).toEqual([0, 6, 7, 9]);
    expect(
      ((response.valueBlock.value[0] as asn1.Constructed).valueBlock.value[0] as asn1.Integer)
        .valueBlock.valueDec,
    ).toBe(3390);
    expect((status.valueBlock.value[0] as asn1.Integer).valueBlock.valueDec).toBe(403);
  });
});
