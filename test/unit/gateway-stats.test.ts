import { describe, expect, it } from 'vitest';
import type { GatewayInfo } from '../../functions/gateway/control-api.ts';
import { statsLine } from '../../functions/gateway/gateway.ts';

describe('the gateway stats line', () => {
  it('counts forwards and live HTML5 connections as the sessions autoscaling tracks', () => {
    const info = {
      forwards: 3,
      connections: 5,
      html5: {
        enabled: true,
        connections: 2,
        accepted: 9,
        refused: 1,
        bytesFromClients: 1_000,
        bytesToClients: 250_000,
        peakBufferedBytes: 65_536,
      },
    } as GatewayInfo;

    expect(statsLine(info)).toEqual({
      activeSessions: 5,
      activeForwards: 3,
      connections: 5,
      html5Connections: 2,
      html5BytesFromClients: 1_000,
      html5BytesToClients: 250_000,
    });
  });
});
