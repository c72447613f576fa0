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
