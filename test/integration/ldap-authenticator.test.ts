/**
 * LdapAuthenticator against a real OpenLDAP (Debian's slapd), started by this file.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  firstRdnValue,
  LdapAuthenticator,
  substitute,
} from '../../functions/adapters/auth/ldap-authenticator.ts';
import { AuthServerUnavailableError, SecretUnavailableError } from '../../functions/core/errors.ts';
import type { LdapAuthServerConfig } from '../../functions/core/site-config/schema.ts';
import { testSecretBox } from '../helpers/secrets.ts';
import {
  freePort,
  LDAP_USERS,
  type SlapdInstance,
  startSlapd,
  testLdapServerConfig,
} from '../helpers/slapd.ts';

const { alice, bob } = LDAP_USERS;
const { box } = testSecretBox();
const ldap = new LdapAuthenticator(box);

let slapd: SlapdInstance;
let server: LdapAuthServerConfig;

beforeAll(async () => {
  slapd = await startSlapd();
  server = testLdapServerConfig(slapd.url);
});

afterAll(async () => {
  await slapd?.stop();
});

/** Runs `f`, expects an AuthServerUnavailableError, returns it and how long it took. */
async function unavailable(
  f: () => Promise<unknown>,
): Promise<{ error: AuthServerUnavailableError; ms: number }> {
  const started = performance.now();
  const error = await f().then(
    (value) => {
      throw new Error(`expected AuthServerUnavailableError, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(AuthServerUnavailableError);
  const typed = error as AuthServerUnavailableError;
  expect(typed.status).toBe(503);
  expect(typed.code).toBe('auth_server_unavailable');
  expect(typed.cause).toBeInstanceOf(Error);
  return { error: typed, ms };
}

describe('LdapAuthenticator.authenticate', () => {
  it('signs alice in with her DN and her groupOfNames groups', async () => {
    const user = await ldap.authenticate(server, alice.uid, alice.password);
    expect(user).toEqual({ dn: alice.dn, groups: ['Designers', 'Engineers'] });
  });

  it('finds groups through every alternative of the default filter (member, uniqueMember, memberUid)', async () => {
    const user = await ldap.authenticate(server, bob.uid, bob.password);
    expect(user).toEqual({ dn: bob.dn, groups: ['Designers', 'Operators', 'Reviewers'] });
  });

  it('reads groups from memberOf alone when no groupBase is set (Active Directory style)', async () => {
    const memberOfOnly = testLdapServerConfig(slapd.url, { groupBase: undefined });
    expect(await ldap.authenticate(memberOfOnly, alice.uid, alice.password)).toEqual({
      dn: alice.dn,
      groups: [...alice.memberOfGroups],
    });
    // Bob's posixGroup and groupOfUniqueNames are not in memberOf: only the group search finds them.
    expect(await ldap.authenticate(memberOfOnly, bob.uid, bob.password)).toEqual({
      dn: bob.dn,
      groups: [...bob.memberOfGroups],
    });
  });

  it('uses groupAttribute for the group names', async () => {
    const byGid = testLdapServerConfig(slapd.url, {
      groupFilter: '(memberUid={username})',
      groupAttribute: 'gidNumber',
    });
    const user = await ldap.authenticate(byGid, bob.uid, bob.password);
    // 5001 from the posixGroup, Designers from bob's memberOf.
    expect(user?.groups).toEqual(['5001', 'Designers']);
  });

  it('resolves undefined for a wrong password', async () => {
    expect(await ldap.authenticate(server, alice.uid, 'not-her-password')).toBeUndefined();
    expect(await ldap.authenticate(server, alice.uid, bob.password)).toBeUndefined();
  });

  it('resolves undefined for an unknown user', async () => {
    expect(await ldap.authenticate(server, 'mallory', 'whatever')).toBeUndefined();
  });

  it('resolves undefined for an empty password without contacting the server', async () => {
    expect(await ldap.authenticate(server, alice.uid, '')).toBeUndefined();
    // Against a port nobody listens on: it would throw if it tried to connect.
    const nowhere = testLdapServerConfig(`ldap://127.0.0.1:${await freePort()}`);
    expect(await ldap.authenticate(nowhere, alice.uid, '')).toBeUndefined();
    expect(await ldap.authenticate(nowhere, '', alice.password)).toBeUndefined();
  });

  it('escapes filter metacharacters in the username (no LDAP injection)', async () => {
    // Unescaped, `al*` would find exactly alice and sign in with her password.
    expect(await ldap.authenticate(server, 'al*', alice.password)).toBeUndefined();
    expect(await ldap.authenticate(server, '*', alice.password)).toBeUndefined();
    expect(await ldap.authenticate(server, '*)(uid=*', alice.password)).toBeUndefined();
    expect(await ldap.authenticate(server, 'alice)(|(uid=*', alice.password)).toBeUndefined();
    expect(await ldap.authenticate(server, 'alice\\', alice.password)).toBeUndefined();
    expect(await ldap.authenticate(server, 'alice\u0000', alice.password)).toBeUndefined();
    // And the real name still works afterwards.
    expect(await ldap.authenticate(server, alice.uid, alice.password)).toBeDefined();
  });

  it('throws AuthServerUnavailableError when the service account cannot bind', async () => {
    const badService = testLdapServerConfig(slapd.url, { bindPassword: 'wrong' });
    const { error } = await unavailable(() =>
      ldap.authenticate(badService, alice.uid, alice.password),
    );
    expect(error.cause).toBeInstanceOf(InvalidCredentialsError);
  });

  it('throws AuthServerUnavailableError, within the timeout, when nobody listens on the port', async () => {
    const nowhere = testLdapServerConfig(`ldap://127.0.0.1:${await freePort()}`, {
      timeoutMs: 1000,
    });
    const { error, ms } = await unavailable(() =>
      ldap.authenticate(nowhere, alice.uid, alice.password),
    );
    expect(error.message).toContain('test-ldap');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(ms).toBeLessThan(1000);
  });

  it('throws AuthServerUnavailableError once the server is stopped', async () => {
    const other = await startSlapd();
    const config = testLdapServerConfig(other.url, { timeoutMs: 1000 });
    try {
      expect(await ldap.authenticate(config, alice.uid, alice.password)).toBeDefined();
    } finally {
      await other.stop();
    }
    const { ms } = await unavailable(() => ldap.authenticate(config, alice.uid, alice.password));
    expect(ms).toBeLessThan(1000);
  });
});

describe('LdapAuthenticator.probe', () => {
  it('resolves for the running server, with the service account and anonymously', async () => {
    await expect(ldap.probe(server)).resolves.toBeUndefined();
    const anonymous = testLdapServerConfig(slapd.url, {
      bindDn: undefined,
      bindPassword: undefined,
    });
    await expect(ldap.probe(anonymous)).resolves.toBeUndefined();
  });

  it('throws AuthServerUnavailableError when the service account is rejected', async () => {
    const { error } = await unavailable(() =>
      ldap.probe(testLdapServerConfig(slapd.url, { bindPassword: 'wrong' })),
    );
    expect(error.cause).toBeInstanceOf(InvalidCredentialsError);
  });

  it('throws AuthServerUnavailableError, within the timeout, when nobody listens on the port', async () => {
    const nowhere = testLdapServerConfig(`ldap://127.0.0.1:${await freePort()}`, {
      timeoutMs: 1000,
    });
    const { ms } = await unavailable(() => ldap.probe(nowhere));
    expect(ms).toBeLessThan(1000);
  });
});

describe('a server that accepts connections but never answers', () => {
  let silent: Server;
  let url: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    url = `ldap://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('makes authenticate throw AuthServerUnavailableError after timeoutMs', async () => {
    const config = testLdapServerConfig(url, { timeoutMs: 300 });
    const { ms } = await unavailable(() => ldap.authenticate(config, alice.uid, alice.password));
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1500);
  });

  it('makes probe throw AuthServerUnavailableError after timeoutMs, anonymous or not', async () => {
    for (const overrides of [{}, { bindDn: undefined, bindPassword: undefined }]) {
      const config = testLdapServerConfig(url, { timeoutMs: 300, ...overrides });
      const { ms } = await unavailable(() => ldap.probe(config));
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1500);
    }
  });
});

describe('filter and DN helpers', () => {
  it('substitute escapes values and does not substitute twice', () => {
    expect(substitute('(uid={username})', { username: '*)(uid=*' })).toBe(
      '(uid=\\2a\\29\\28uid=\\2a)',
    );
    expect(
      substitute('(|(member={dn})(memberUid={username}))', {
        dn: 'cn=a\\,b,o=x',
        username: '{dn}',
      }),
    ).toBe('(|(member=cn=a\\5c,b,o=x)(memberUid={dn}))');
    expect(substitute('(x={unknown})', { username: 'u' })).toBe('(x={unknown})');
    expect(substitute('(x={username})', { username: '$&$1' })).toBe('(x=$&$1)');
  });

  it('firstRdnValue maps group DNs to their CN', () => {
    expect(firstRdnValue('CN=Engineers,OU=Groups,DC=example,DC=org')).toBe('Engineers');
    expect(firstRdnValue('cn=Smith\\, John,ou=x')).toBe('Smith, John');
    expect(firstRdnValue('cn=R\\C3\\A9seau+uid=1,ou=x')).toBe('Réseau');
    expect(firstRdnValue('cn=trailing\\ ,ou=x')).toBe('trailing ');
    expect(firstRdnValue('CN = Spaced , OU=x')).toBe('Spaced');
    expect(firstRdnValue('ou=NotACn,dc=x')).toBe('ou=NotACn,dc=x');
  });
});

describe('stored bind passwords', () => {
  it('binds with a sealed bind password, opened only for the bind', async () => {
    const sealed = { ...server, bindPassword: await box.seal(server.bindPassword!) };
    const user = await ldap.authenticate(sealed, alice.uid, alice.password);
    await expect(ldap.probe(sealed)).resolves.toBeUndefined();
    expect(user?.dn).toBe(alice.dn);
  });

  it('says so when a sealed bind password cannot be opened here (another key)', async () => {
    const other = testSecretBox().box;
    const sealedElsewhere = {
      ...server,
      name: 'elsewhere',
      bindPassword: await other.seal(server.bindPassword!),
    };
    await expect(ldap.authenticate(sealedElsewhere, alice.uid, alice.password)).rejects.toThrow(
      SecretUnavailableError,
    );
    await expect(ldap.probe(sealedElsewhere)).rejects.toThrow(SecretUnavailableError);
  });
});

describe('reused connections', () => {
  it('are keyed by server name and a fingerprint, never the password', async () => {
    const pooled = new LdapAuthenticator(box);
    try {
      await pooled.authenticate({ ...server, name: 'Corp' }, alice.uid, alice.password);
      const keys = pooled.pooledServers();
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^corp#[A-Za-z0-9_-]{22}$/);
      expect(keys.join()).not.toContain(server.bindPassword!);
    } finally {
      await pooled.close();
    }
  });

  it('replace the connections of a changed server at once, and forget an unused one', async () => {
    const pooled = new LdapAuthenticator(box, { idleMs: 300 });
    try {
      const first = { ...server, name: 'corp' };
      const changed = { ...first, timeoutMs: first.timeoutMs + 1 };
      await pooled.authenticate(first, alice.uid, alice.password);
      const before = pooled.pooledServers();
      await pooled.authenticate(changed, alice.uid, alice.password);
      const after = pooled.pooledServers();

      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
      // A server removed from the site is no longer asked for: its entry goes when idle.
      await expect.poll(() => pooled.pooledServers(), { timeout: 3000 }).toEqual([]);
    } finally {
      await pooled.close();
    }
  });
});
