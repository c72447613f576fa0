/** The broker's clock, a port so tests can move time. */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}
