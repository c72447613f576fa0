/**
 * Starts a local broker for a test: the real runtime (same composition as Lambda) on a free
 * port, on a database of the test's choosing, logging nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../functions/config.ts';
import {
  type LocalBroker,
  type LocalOptions,
  startLocalBroker,
} from '../../functions/local/runtime.ts';

export const TEST_ADMIN_PASSWORD = 'admin-test-password';

export interface TestBroker extends LocalBroker {
  readonly home: string;
  /** Signs in as the built-in admin; returns the bearer token. */
  adminToken(): Promise<string>;
  /** fetch against the broker's URL. */
  fetch(pathAndQuery: string, init?: RequestInit): Promise<Response>;
}

export async function startTestBroker(
  options: { dbUrl?: string; env?: Record<string, string>; local?: LocalOptions } = {},
): Promise<TestBroker> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'deskbroker-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DESKBROKER_HOME: home,
    SITE_DB_URL: options.dbUrl ?? `pglite://${home}/site`,
    DESKBROKER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    LOG_LEVEL: 'SILENT',
    HEALTH_TIMEOUT_MS: '500',
    ...options.env,
  });
  const local = await startLocalBroker(config, options.local);
  const fetchBroker = (p: string, init?: RequestInit) => fetch(`${local.url}${p}`, init);
  return {
    ...local,
    home,
    fetch: fetchBroker,
    async adminToken() {
      const res = await fetchBroker('/api/v1/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
      });
      if (!res.ok) throw new Error(`admin login failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async stop() {
      await local.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A response body as loosely typed JSON, for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes.
export async function jsonOf(res: Response): Promise<any> {
  return res.json();
}
