/**
 * A private OpenLDAP server for tests and benchmarks: `startSlapd()` runs
 * `scripts/ldap-test-server.sh start` on a fresh temporary directory and a free port, and waits
 * until the server lets the reader service account bind. The directory tree it loads is
 * described by the constants below (keep them in step with the script).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import {
  type LdapAuthServerConfig,
  ldapAuthServerSchema,
} from '../../functions/core/site-config/schema.ts';

const run = promisify(execFile);

const SCRIPT = fileURLToPath(new URL('../../scripts/ldap-test-server.sh', import.meta.url));

/** The base of the test directory. */
export const LDAP_SUFFIX = 'dc=example,dc=org';
/** The directory manager (rootdn) and its password. */
export const LDAP_ROOT_DN = `cn=admin,${LDAP_SUFFIX}`;
export const LDAP_ROOT_PASSWORD = 'admin-secret';
/** The service account that may search people and groups. */
export const LDAP_READER_DN = `cn=reader,${LDAP_SUFFIX}`;
export const LDAP_READER_PASSWORD = 'reader-secret';
/** Where people and groups live. */
export const LDAP_USER_BASE = `ou=people,${LDAP_SUFFIX}`;
export const LDAP_GROUP_BASE = `ou=groups,${LDAP_SUFFIX}`;

/** A person of the test directory. */
export interface LdapTestUser {
  readonly uid: string;
  readonly dn: string;
  readonly password: string;
  /** Every group, sorted: the groupOfNames, groupOfUniqueNames and posixGroup ones. */
  readonly groups: readonly string[];
  /** The groups the memberof overlay lists in `memberOf` (groupOfNames only), sorted. */
  readonly memberOfGroups: readonly string[];
}

/** The people of the test directory. */
export const LDAP_USERS = {
  alice: {
    uid: 'alice',
    dn: `uid=alice,${LDAP_USER_BASE}`,
    password: 'alice-secret',
    groups: ['Designers', 'Engineers'],
    memberOfGroups: ['Designers', 'Engineers'],
  },
  bob: {
    uid: 'bob',
    dn: `uid=bob,${LDAP_USER_BASE}`,
    password: 'bob-secret',
    // Designers: groupOfNames/member; Reviewers: groupOfUniqueNames/uniqueMember;
    // Operators: posixGroup/memberUid.
    groups: ['Designers', 'Operators', 'Reviewers'],
    memberOfGroups: ['Designers'],
  },
} as const satisfies Record<string, LdapTestUser>;

/**
 * An LDAP auth-server configuration for the test directory at `url`: the reader service
 * account, people and groups bases, and the schema's defaults for the rest (filters, `cn`,
 * timeout), with `overrides` on top.
 */
export function testLdapServerConfig(
  url: string,
  overrides: Partial<LdapAuthServerConfig> = {},
): LdapAuthServerConfig {
  return {
    ...ldapAuthServerSchema.parse({
      name: 'test-ldap',
      type: 'ldap',
      url,
      bindDn: LDAP_READER_DN,
      bindPassword: LDAP_READER_PASSWORD,
      userBase: LDAP_USER_BASE,
      groupBase: LDAP_GROUP_BASE,
    }),
    ...overrides,
  };
}

/** A running private slapd. */
export interface SlapdInstance {
  /** `ldap://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Its configuration, database and log (`slapd.log`); removed by `stop`. */
  readonly dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/**
 * Starts a private slapd with the test directory on 127.0.0.1 (installing Debian's slapd
 * first if it is missing) and resolves once the reader account can bind.
 * @throws {Error} when the script fails (its message included) or the server does not let the
 *   reader bind within 15 s; nothing is left running then.
 */
export async function startSlapd(): Promise<SlapdInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'deskbroker-slapd-'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let pid: number | undefined;
  const stop = async (): Promise<void> => {
    if (pid !== undefined) await killAndWait(pid);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { stdout } = await run('bash', [SCRIPT, 'start', dir, String(port)], {
      timeout: 5 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((e: unknown) => {
      const err = e as { stderr?: string; message?: string };
      throw new Error(`ldap-test-server.sh start failed: ${err.stderr?.trim() || err.message}`, {
        cause: e,
      });
    });
    pid = Number.parseInt(stdout.trim().split('\n').at(-1) ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) {
      pid = undefined;
      throw new Error(`ldap-test-server.sh start printed no pid: ${JSON.stringify(stdout)}`);
    }
    await waitUntilReaderBinds(url, dir);
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    pid,
    dir,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function waitUntilReaderBinds(url: string, dir: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const client = new Client({ url, connectTimeout: 1000, timeout: 1000 });
    try {
      await client.bind(LDAP_READER_DN, LDAP_READER_PASSWORD);
      return;
    } catch (e: unknown) {
      last = e;
    } finally {
      await client.unbind().catch(() => {});
    }
    await sleep(50);
  }
  const log = await readFile(join(dir, 'slapd.log'), 'utf8').catch(() => '');
  throw new Error(
    `slapd on ${url} did not let ${LDAP_READER_DN} bind within ${READY_TIMEOUT_MS} ms: ${String(last)}\n${log}`,
    { cause: last },
  );
}

/** A TCP port on 127.0.0.1 that nobody listened on a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** SIGTERM, wait for the process to go (it is not our child: poll), SIGKILL after 5 s. */
async function killAndWait(pid: number): Promise<void> {
  if (!(await alive(pid))) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!(await alive(pid))) return;
    await sleep(25);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && (await alive(pid))) await sleep(25);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

/** Whether the process exists and is not a zombie waiting for its (new) parent to reap it. */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  // Format: "pid (comm) state ...": the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
