/** A clock a test can move forward. */
export function testClock(start = Date.now()) {
  let offset = 0;
  return {
    now: () => start + offset + (Date.now() - start),
    advance(ms: number) {
      offset += ms;
    },
  };
}

/** A clock that stands still until a test moves it (unit tests compare exact times). */
export function frozenClock(start = Date.now()) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
