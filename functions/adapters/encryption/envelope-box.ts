/**
 * Envelope encryption of stored secrets (LDAP bind passwords, TOTP secrets): each value is
 * encrypted with AES-256-GCM under a 256-bit data key, and the data key, wrapped by a master
 * key (a KMS key on AWS, a key file locally), is stored beside it with the master key's id.
 *
 * A sealed value is one line of text, so it fits the columns and JSON fields that held the
 * clear value: `enc1.<key id>.<wrapped data key>.<iv>.<ciphertext>.<tag>`, every part
 * base64url. The header (`enc1.<key id>.<wrapped data key>`) is the GCM additional data, so
 * none of it can be swapped without the value failing to open.
 *
 * Data keys, as the AWS Encryption SDK's caching does it: a data key seals values for at most
 * a minute (one apply or one re-encryption share it; a master key change starts a new one at
 * once), and unwrapped data keys are kept in memory (bounded), so the login path asks KMS
 * once per data key and process, not once per login.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretUnavailableError } from '../../core/errors.ts';
import type { SecretBox } from '../../core/secrets/ports.ts';

/** Master keys: they make data keys and unwrap them. */
export interface MasterKeys {
  /** The id of the key new data keys are wrapped under now. */
  currentKeyId(): Promise<string>;
  /** A new 256-bit data key, in clear and wrapped under the current master key. */
  newDataKey(): Promise<{ keyId: string; plaintext: Buffer; wrapped: Buffer }>;
  /**
   * The clear data key inside `wrapped`.
   * @throws when `keyId` is not known here or `wrapped` was altered.
   */
  unwrap(keyId: string, wrapped: Buffer): Promise<Buffer>;
}

const VERSION = 'enc1';
const SEALED =
  /^enc1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;
/** How long one data key seals values. */
const DATA_KEY_MS = 60_000;
/** Unwrapped data keys kept in memory. */
const MAX_OPEN_KEYS = 256;

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const unb64 = (text: string) => Buffer.from(text, 'base64url');

interface DataKey {
  readonly masterKeyId: string;
  readonly keyId: string;
  readonly plaintext: Buffer;
  readonly wrapped: Buffer;
  readonly until: number;
}

export class EnvelopeSecretBox implements SecretBox {
  readonly #keys: MasterKeys;
  readonly #now: () => number;
  #sealing: Promise<DataKey> | undefined;
  readonly #opened = new Map<string, Promise<Buffer>>();

  constructor(keys: MasterKeys, now: () => number = Date.now) {
    this.#keys = keys;
    this.#now = now;
  }

  isSealed(value: string): boolean {
    return SEALED.test(value);
  }

  keyIdOf(value: string): string | undefined {
    const m = SEALED.exec(value);
    return m ? unb64(m[1]!).toString('utf8') : undefined;
  }

  async seal(plain: string): Promise<string> {
    const key = await this.#dataKey();
    const header = `${VERSION}.${b64(key.keyId)}.${b64(key.wrapped)}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.plaintext, iv);
    cipher.setAAD(Buffer.from(header));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${header}.${b64(iv)}.${b64(ciphertext)}.${b64(cipher.getAuthTag())}`;
  }

  async open(value: string): Promise<string> {
    const m = SEALED.exec(value);
    if (!m) return value;
    const [, keyId, wrapped, iv, ciphertext, tag] = m as unknown as string[];
    const header = `${VERSION}.${keyId}.${wrapped}`;
    try {
      const dataKey = await this.#unwrap(unb64(keyId!).toString('utf8'), wrapped!);
      const decipher = createDecipheriv('aes-256-gcm', dataKey, unb64(iv!));
      decipher.setAAD(Buffer.from(header));
      decipher.setAuthTag(unb64(tag!));
      return Buffer.concat([decipher.update(unb64(ciphertext!)), decipher.final()]).toString(
        'utf8',
      );
    } catch (e: unknown) {
      throw e instanceof SecretUnavailableError ? e : new SecretUnavailableError(e);
    }
  }

  /**
   * The data key to seal with: the last one while it is young and its master key current.
   * Calls are chained, so concurrent seals share one new data key instead of each making one.
   */
  #dataKey(): Promise<DataKey> {
    const next = (this.#sealing ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then(async (previous): Promise<DataKey> => {
        try {
          const masterKeyId = await this.#keys.currentKeyId();
          if (previous && previous.masterKeyId === masterKeyId && previous.until > this.#now())
            return previous;
          const made = await this.#keys.newDataKey();
          return { ...made, masterKeyId, until: this.#now() + DATA_KEY_MS };
        } catch (e: unknown) {
          throw new SecretUnavailableError(e);
        }
      });
    this.#sealing = next;
    return next;
  }

  #unwrap(keyId: string, wrapped: string): Promise<Buffer> {
    const cacheKey = `${keyId}\n${wrapped}`;
    let key = this.#opened.get(cacheKey);
    if (!key) {
      if (this.#opened.size >= MAX_OPEN_KEYS) {
        this.#opened.delete(this.#opened.keys().next().value!);
      }
      key = this.#keys.unwrap(keyId, unb64(wrapped));
      this.#opened.set(cacheKey, key);
      key.catch(() => this.#opened.delete(cacheKey));
    }
    return key;
  }
}
