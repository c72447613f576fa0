/**
 * `gateways[].portRange` of the site configuration says which ports a gateway forwards on
 * (what a firewall in front of it must open); the gateway itself uses GATEWAY_PORT_RANGE and
 * reports it in `GET /info`. The `check_gateway` job compares the two.
 */

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * A sentence when the range a gateway reports is not the configured one (undefined when
 * they agree), saying which ports clients would fail to reach or which are opened for nothing.
 */
export function portRangeDisagreement(
  gateway: string,
  configured: PortRange,
  reported: PortRange,
): string | undefined {
  if (configured.from === reported.from && configured.to === reported.to) return undefined;
  const outside = reported.from < configured.from || reported.to > configured.to;
  return (
    `gateway "${gateway}" forwards on ports ${reported.from}-${reported.to} (its GATEWAY_PORT_RANGE), ` +
    `but the site configuration says ${configured.from}-${configured.to} (gateways[].portRange): ` +
    (outside
      ? 'clients may be refused on the ports outside the configured range; make the two agree'
      : 'make the two agree')
  );
}
