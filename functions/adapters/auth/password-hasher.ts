/**
 * argon2id password hashes, with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane):
 * about 20 ms a hash here, strong enough for stored secrets, cheap enough for logins.
 * https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
 */
import type { PasswordHasher } from '../../core/login/ports.ts';

// argon2 is a native module: loaded on first use, so the Lambdas that never hash carry none.
const argon2 = () => import('argon2').then((m) => m.default);

export class Argon2PasswordHasher implements PasswordHasher {
  async hash(password: string): Promise<string> {
    const a = await argon2();
    return a.hash(password, { type: a.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await (await argon2()).verify(hash, password);
    } catch {
      return false;
    }
  }
}
