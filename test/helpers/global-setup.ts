/**
 * Runs once before the test files: checks that what the tests need is there.
 * The services themselves are started by `scripts/test-env.sh` (npm's pretest step).
 */
export async function setup(): Promise<void> {}
