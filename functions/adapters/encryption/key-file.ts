/**
 * The local master keys: a key file (`DESKBROKER_HOME/secrets.key`, or `SECRETS_KEY_FILE`)
 * created on first start with mode 0600, holding every key by id and which one is current.
 * Rotation adds a key and makes it current; the old ones stay, so values sealed under them
 * still open until they are re-encrypted.
 *
 * ```json
 * { "current": "local-20261127-3fa9c1", "keys": { "local-20261127-3fa9c1": "<32 bytes, base64>" } }
 * ```
 *
 * A data key is wrapped with AES-256-GCM under the master key: `iv(12) || ciphertext(32) ||
 * tag(16)`, the key id as additional data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from '../../core/zod.ts';
import type { MasterKeys } from './envelope-box.ts';

/** The key file is missing, unreadable, malformed, or readable by others. */
export class KeyFileError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'KeyFileError';
  }
}

const keyFileSchema = z.object({
  current: z.string().check(z.minLength(1)),
  keys: z.record(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
    z.base64().check(z.refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes')),
  ),
});
type KeyFileContents = z.infer<typeof keyFileSchema>;

const newKeyId = () =>
  `local-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;

function write(file: string, contents: KeyFileContents, flag: 'wx' | 'w'): void {
  const text = `${JSON.stringify(contents, null, 2)}\n`;
  if (flag === 'wx') {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    return;
  }
  // Replace atomically: a broker reading the file never sees half of it.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, file);
}

/**
 * Creates the key file with one new key unless it exists, and checks that only its owner can
 * read it. Resolves whether it was created.
 * @throws {KeyFileError} when it cannot be created or read, or others may read it.
 */
export function ensureKeyFile(file: string): { created: boolean } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    const id = newKeyId();
    write(file, { current: id, keys: { [id]: randomBytes(32).toString('base64') } }, 'wx');
    return { created: true };
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new KeyFileError(`cannot create the key file ${file}: ${(e as Error).message}`, e);
    }
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(
      `the key file ${file} may be read by others (mode ${mode.toString(8)}): chmod 600 ${file}`,
    );
  }
  readKeyFile(file);
  return { created: false };
}

/** @throws {KeyFileError} when the file is missing or malformed. */
export function readKeyFile(file: string): KeyFileContents {
  let parsed: KeyFileContents;
  try {
    parsed = keyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e: unknown) {
    throw new KeyFileError(`cannot read the key file ${file}: ${(e as Error).message}`, e);
  }
  if (!parsed.keys[parsed.current]) {
    throw new KeyFileError(`the key file ${file} names a current key it does not hold`);
  }
  return parsed;
}

/**
 * Adds a new key to the file and makes it current; the old keys stay. Returns the new id.
 * @throws {KeyFileError} when the file cannot be read or written.
 */
export function addKey(file: string): string {
  ensureKeyFile(file);
  const contents = readKeyFile(file);
  const id = newKeyId();
  write(
    file,
    { current: id, keys: { ...contents.keys, [id]: randomBytes(32).toString('base64') } },
    'w',
  );
  return id;
}

/** {@link MasterKeys} from a key file, read again whenever it changes (a rotation). */
export class KeyFileMasterKeys implements MasterKeys {
  readonly #file: string;
  #loaded: { mtimeMs: number; contents: KeyFileContents } | undefined;

  constructor(file: string) {
    this.#file = file;
  }

  async currentKeyId(): Promise<string> {
    return this.#contents().current;
  }

  async newDataKey(): Promise<{ keyId: string; plaintext: Buffer; wrapped: Buffer }> {
    const { current, keys } = this.#contents();
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(keys[current]!, 'base64'), iv);
    cipher.setAAD(Buffer.from(current));
    const wrapped = Buffer.concat([
      iv,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return { keyId: current, plaintext, wrapped };
  }

  async unwrap(keyId: string, wrapped: Buffer): Promise<Buffer> {
    const master = this.#contents().keys[keyId];
    if (!master) throw new KeyFileError(`the key file ${this.#file} has no key ${keyId}`);
    if (wrapped.length !== 12 + 32 + 16) throw new KeyFileError('a wrapped data key is malformed');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(master, 'base64'),
      wrapped.subarray(0, 12),
    );
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(wrapped.subarray(12 + 32));
    return Buffer.concat([decipher.update(wrapped.subarray(12, 12 + 32)), decipher.final()]);
  }

  #contents(): KeyFileContents {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.#file).mtimeMs;
    } catch (e: unknown) {
      throw new KeyFileError(`the key file ${this.#file} is missing`, e);
    }
    if (this.#loaded?.mtimeMs !== mtimeMs) {
      this.#loaded = { mtimeMs, contents: readKeyFile(this.#file) };
    }
    return this.#loaded.contents;
  }
}
