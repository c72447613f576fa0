/**
 * The circuit breaker around the site database. Closed: requests use the database. After
 * `failureThreshold` consecutive failures it opens: requests go straight to leased mode
 * without waiting on a dead database. Every `probeIntervalMs` one request is let through
 * (half-open); its success closes the breaker again.
 *
 * The request that meets a failure does not wait for the breaker: it switches to leased mode
 * itself, so there is no window of refusals.
 */
import type { Clock } from '../clock.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly probeIntervalMs: number;
}

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #options: BreakerOptions;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;
  #lastProbeAt = 0;
  readonly #listeners: ((state: 'closed' | 'open') => void)[] = [];
  readonly #successListeners: (() => void)[] = [];

  constructor(clock: Clock, options: BreakerOptions) {
    this.#clock = clock;
    this.#options = options;
  }

  get state(): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#probing ? 'half-open' : 'open';
  }

  /** When it opened (epoch ms), if it is open. */
  get openedAt(): number | undefined {
    return this.#openedAt;
  }

  /**
   * Whether this request should try the database: always while closed; while open, one
   * request per probe interval (it becomes the probe).
   */
  allowRequest(): boolean {
    if (this.#openedAt === undefined) return true;
    const now = this.#clock.now();
    if (!this.#probing && now - this.#lastProbeAt >= this.#options.probeIntervalMs) {
      this.#probing = true;
      this.#lastProbeAt = now;
      return true;
    }
    return false;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    for (const listener of this.#successListeners) listener();
    if (this.#openedAt !== undefined) {
      this.#openedAt = undefined;
      for (const listener of this.#listeners) listener('closed');
    }
  }

  failure(): void {
    this.#failures++;
    this.#probing = false;
    if (this.#openedAt === undefined && this.#failures >= this.#options.failureThreshold) {
      this.#openedAt = this.#clock.now();
      this.#lastProbeAt = this.#openedAt;
      for (const listener of this.#listeners) listener('open');
    }
  }

  /** The request ended without telling whether the database works (another error): no verdict. */
  settle(): void {
    this.#probing = false;
  }

  /** Called after every request the database served. */
  onSuccess(listener: () => void): void {
    this.#successListeners.push(listener);
  }

  /** Called when the breaker opens or closes (the outbox replays on close). */
  onChange(listener: (state: 'closed' | 'open') => void): void {
    this.#listeners.push(listener);
  }
}
