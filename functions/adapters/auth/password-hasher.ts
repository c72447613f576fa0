/**
 * argon2id password hashes, with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane):
 * about 20 ms a hash here, strong enough for stored secrets, cheap enough for logins.
 * https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
 */
import argon2 from 'argon2';
import type { PasswordHasher } from '../../core/ports.ts';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export class Argon2PasswordHasher implements PasswordHasher {
  hash(password: string): Promise<string> {
    return argon2.hash(password, OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }
}
