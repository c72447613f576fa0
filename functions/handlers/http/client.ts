/**
 * Who the client is, as far as the broker can trust it: its address as the load balancer saw
 * it, or, for a login forwarded by a gateway, the address and gateway named in the gateway's
 * signed tag. A tag that is missing, forged or stale is ignored. Behind CloudFront, the address
 * CloudFront saw (see `clientIp`).
 */
import type { ALBEvent } from 'aws-lambda';
import { LOGIN_TAG_HEADER, verifyLoginTag } from '../../core/gateways/signature.ts';
import type { ClientAttributes } from '../../core/login/locations.ts';
import { CDN_ORIGIN_HEADER, clientIp, header, headerValues } from './request.ts';

export function clientOf(
  event: ALBEvent,
  trust: { readonly gatewaySecret?: string; readonly cdnOriginSecret?: string },
  name?: string,
): ClientAttributes {
  const tag = trust.gatewaySecret
    ? verifyLoginTag({ secret: trust.gatewaySecret, value: header(event, LOGIN_TAG_HEADER) })
    : undefined;
  const ip = tag?.clientIp ?? clientIp(event, trust.cdnOriginSecret);
  const headers: Record<string, string> = {};
  const names = event.multiValueHeaders
    ? Object.keys(event.multiValueHeaders)
    : Object.keys(event.headers ?? {});
  for (const n of names) {
    const lower = n.toLowerCase();
    if (
      lower === LOGIN_TAG_HEADER ||
      lower === CDN_ORIGIN_HEADER ||
      lower === 'authorization' ||
      lower === 'cookie'
    )
      continue;
    headers[lower] = headerValues(event, lower).join(', ');
  }
  return {
    ip,
    name: name?.trim() || ip,
    loginGateway: tag?.gateway ?? null,
    loginGatewayTags: tag?.tags ?? [],
    headers,
  };
}
