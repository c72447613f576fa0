/**
 * Which address is the client's: the load balancer's X-Forwarded-For entry, or, for a request
 * that proves it came through the site's CloudFront distribution, the entry CloudFront added.
 */
import { describe, expect, it } from 'vitest';
import { clientOf } from '../../functions/handlers/http/client.ts';
import { clientIp } from '../../functions/handlers/http/request.ts';
import { albEvent } from '../helpers/alb-events.ts';

const SECRET = 'cdn-origin-secret-for-tests';
// CloudFront at 198.51.100.7 saw the viewer 203.0.113.44; the client itself claimed 10.0.0.1.
const viaCloudFront = (header?: string) =>
  albEvent({
    path: '/api/v1/login',
    headers: {
      'x-forwarded-for': '10.0.0.1, 203.0.113.44',
      ...(header !== undefined ? { 'x-deskbroker-cdn': header } : {}),
    },
    sourceIp: '198.51.100.7',
  });

describe('the client address', () => {
  it('is the entry the load balancer added, whatever the client wrote before it', () => {
    expect(clientIp(viaCloudFront())).toBe('198.51.100.7');
    expect(clientIp(viaCloudFront(), SECRET)).toBe('198.51.100.7');
  });

  it('is the entry CloudFront added when the request carries the origin secret', () => {
    expect(clientIp(viaCloudFront(SECRET), SECRET)).toBe('203.0.113.44');
  });

  it('ignores a wrong or guessed origin header, and one the broker has no secret for', () => {
    expect(clientIp(viaCloudFront('not-the-secret'), SECRET)).toBe('198.51.100.7');
    expect(clientIp(viaCloudFront(`${SECRET}x`), SECRET)).toBe('198.51.100.7');
    expect(clientIp(viaCloudFront(SECRET))).toBe('198.51.100.7');
  });

  it('never records the origin header with the client', () => {
    const client = clientOf(viaCloudFront(SECRET), { cdnOriginSecret: SECRET });
    expect(client.ip).toBe('203.0.113.44');
    expect(Object.keys(client.headers)).not.toContain('x-deskbroker-cdn');
  });
});
