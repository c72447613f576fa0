import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../functions/core/errors.ts';
import { CircuitBreaker } from '../../functions/core/leasing/circuit-breaker.ts';
import { siteOrLeases } from '../../functions/core/leasing/leased-mode.ts';
import {
  DAY_MS,
  isLeasable,
  leasedOffers,
  leaseForLaunch,
} from '../../functions/core/leasing/leases.ts';

const clockAt = (start: number) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

describe('circuit breaker', () => {
  it('opens after the threshold, lets one probe a second through, closes on success', () => {
    const clock = clockAt(0);
    const breaker = new CircuitBreaker(clock, { failureThreshold: 2, probeIntervalMs: 1000 });
    const changes: string[] = [];
    breaker.onChange((s) => changes.push(s));

    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.allowRequest()).toBe(false);
    clock.advance(1000);
    expect(breaker.allowRequest()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.allowRequest()).toBe(false);
    breaker.success();

    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'closed']);
  });
});

describe('siteOrLeases', () => {
  const leasing = (breaker: CircuitBreaker) => ({
    breaker,
    withDeadline: <T>(fn: () => Promise<T>) => fn(),
  });

  it('switches on the failing request itself: no refusal', async () => {
    const breaker = new CircuitBreaker(clockAt(0), { failureThreshold: 5, probeIntervalMs: 1000 });
    const answer = await siteOrLeases(
      leasing(breaker),
      async () => {
        throw new DatabaseUnavailableError();
      },
      async () => 'leased',
    );
    expect(answer).toBe('leased');
  });

  it('does not hide other errors, and skips the database while open', async () => {
    const breaker = new CircuitBreaker(clockAt(0), { failureThreshold: 1, probeIntervalMs: 1000 });
    await expect(
      siteOrLeases(
        leasing(breaker),
        async () => Promise.reject(new Error('bug')),
        async () => 'leased',
      ),
    ).rejects.toThrow('bug');
    breaker.failure();
    let tried = false;
    const answer = await siteOrLeases(
      leasing(breaker),
      async () => {
        tried = true;
        return 'normal';
      },
      async () => 'leased',
    );
    expect({ answer, tried }).toEqual({ answer: 'leased', tried: false });
  });
});

describe('leases', () => {
  const base = {
    user: 'ann',
    authServer: 'local',
    desktopId: 7,
    desktopName: 'ann-ws',
    address: '10.0.0.7',
    pool: 'assigned',
    launch: {
      protocol: 'rdp',
      protocols: [{ protocol: 'rdp' as const, port: 3389, gateway: 'east' }],
    },
  };

  it('are only for the hard-assigned user', () => {
    expect(isLeasable({ assignedUser: 'Ann' }, 'ann')).toBe(true);
    expect(isLeasable({ assignedUser: 'bob' }, 'ann')).toBe(false);
    expect(isLeasable({ assignedUser: null }, 'ann')).toBe(false);
  });

  it('keep their creation time on renewal and live the configured days', () => {
    const first = leaseForLaunch(base, 1000, 14);
    const renewed = leaseForLaunch(base, 5000, 14, first);
    expect(renewed).toMatchObject({
      createdAt: 1000,
      lastLaunchAt: 5000,
      expiresAt: 5000 + 14 * DAY_MS,
    });
  });

  it('offer only unexpired leases, most recent first, as assigned desktops', () => {
    const old = leaseForLaunch({ ...base, desktopId: 1, desktopName: 'a' }, 0, 14);
    const recent = leaseForLaunch({ ...base, desktopId: 2, desktopName: 'b' }, DAY_MS, 14);
    const expired = leaseForLaunch({ ...base, desktopId: 3, desktopName: 'c' }, 0, 1);

    const offers = leasedOffers([old, expired, recent], 2 * DAY_MS);

    expect(offers.map((o) => o.name)).toEqual(['b', 'a']);
    expect(offers[0]).toMatchObject({
      status: 'assigned',
      protocols: [{ protocol: 'rdp', port: 3389, via: 'gateway' }],
    });
  });
});
