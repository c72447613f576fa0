/**
 * Runs once before the test files. The services themselves are started by
 * `scripts/test-env.sh` (npm's pretest step); here the pages are built when their sources
 * changed, so the browser tests and the static-file tests test the current code.
 */
import { buildWeb, webIsStale } from '../../scripts/build-web.ts';

export async function setup(): Promise<void> {
  if (webIsStale()) await buildWeb();
}
