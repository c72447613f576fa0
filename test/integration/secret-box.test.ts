/**
 * Envelope encryption of stored secrets on both master keys: a local key file and KMS
 * (through the real `@aws-sdk/client-kms` against the KMS stand-in). Sealing, opening,
 * tampering, unknown keys, rotation, and how often the master key is asked.
 */
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvelopeSecretBox } from '../../functions/adapters/encryption/envelope-box.ts';
import {
  addKey,
  ensureKeyFile,
  KeyFileError,
  KeyFileMasterKeys,
  readKeyFile,
} from '../../functions/adapters/encryption/key-file.ts';
import { KmsMasterKeys } from '../../functions/adapters/encryption/kms-keys.ts';
import { SecretUnavailableError } from '../../functions/core/errors.ts';
import { type KmsServer, startKmsServer } from '../helpers/kms-server.ts';

const folder = () => mkdtempSync(path.join(os.tmpdir(), 'deskbroker-box-'));

/** Flips one character of the ciphertext part of a sealed value. */
function tamper(sealed: string): string {
  const parts = sealed.split('.');
  const ct = parts[4]!;
  parts[4] = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
  return parts.join('.');
}

describe('the key file', () => {
  it('is made on first use with mode 0600, and kept after', () => {
    const file = path.join(folder(), 'sub', 'secrets.key');
    expect(ensureKeyFile(file)).toEqual({ created: true });
    const first = readKeyFile(file);
    expect(ensureKeyFile(file)).toEqual({ created: false });

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readKeyFile(file)).toEqual(first);
  });

  it('is refused when others may read it', () => {
    const file = path.join(folder(), 'secrets.key');
    ensureKeyFile(file);
    chmodSync(file, 0o644);
    expect(() => ensureKeyFile(file)).toThrow(KeyFileError);
    expect(() => ensureKeyFile(file)).toThrow(/chmod 600/);
  });
});

describe('EnvelopeSecretBox on a key file', () => {
  const file = path.join(folder(), 'secrets.key');
  ensureKeyFile(file);
  const box = new EnvelopeSecretBox(new KeyFileMasterKeys(file));

  it('seals to a new text each time, opens to the value, and names its key', async () => {
    const a = await box.seal('s3cret pässword');
    const b = await box.seal('s3cret pässword');

    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(box.isSealed(a)).toBe(true);
    expect(await box.open(a)).toBe('s3cret pässword');
    expect(await box.open(b)).toBe('s3cret pässword');
    expect(box.keyIdOf(a)).toBe(readKeyFile(file).current);
  });

  it('returns a clear value (stored before encryption) as it is', async () => {
    expect(box.isSealed('plain')).toBe(false);
    expect(box.keyIdOf('plain')).toBeUndefined();
    expect(await box.open('plain')).toBe('plain');
  });

  it('refuses an altered text, a swapped header, and a key it does not hold', async () => {
    const sealed = await box.seal('value');
    const other = new EnvelopeSecretBox(new KeyFileMasterKeys(path.join(folder(), 'k')));
    ensureKeyFile(path.join(path.dirname(file), 'other.key'));
    const foreign = await new EnvelopeSecretBox(
      new KeyFileMasterKeys(path.join(path.dirname(file), 'other.key')),
    ).seal('value');
    // Another box instance: another data key, so another wrapped key in the header.
    const [, , wrapped] = (
      await new EnvelopeSecretBox(new KeyFileMasterKeys(file)).seal('x')
    ).split('.');
    const swapped = sealed.split('.').with(2, wrapped!).join('.');

    await expect(box.open(tamper(sealed))).rejects.toThrow(SecretUnavailableError);
    await expect(box.open(swapped)).rejects.toThrow(SecretUnavailableError);
    await expect(box.open(foreign)).rejects.toThrow(SecretUnavailableError);
    await expect(other.seal('x')).rejects.toThrow(SecretUnavailableError);
  });

  it('after a rotation seals under the new key and still opens what the old one sealed', async () => {
    const old = await box.seal('before');
    const oldKey = box.keyIdOf(old);
    const newKey = addKey(file);
    const fresh = await box.seal('after');

    expect(newKey).not.toBe(oldKey);
    expect(box.keyIdOf(fresh)).toBe(newKey);
    expect(await box.open(old)).toBe('before');
    expect(await box.open(fresh)).toBe('after');
  });
});

describe('EnvelopeSecretBox on KMS', () => {
  let kms: KmsServer;
  let keyArn: string;
  let box: EnvelopeSecretBox;
  let now = 1_000_000;

  beforeAll(async () => {
    kms = await startKmsServer();
    keyArn = kms.createKey('alias/deskbroker-secrets');
  });
  afterAll(() => kms?.close());

  const kmsBox = (keyId: string) =>
    new EnvelopeSecretBox(
      new KmsMasterKeys(keyId, { region: 'us-east-1', endpoint: kms.endpoint }),
      () => now,
    );

  it('seals with a KMS data key and opens it again, the key ARN stored with the value', async () => {
    box = kmsBox('alias/deskbroker-secrets');
    const sealed = await box.seal('bind password');

    expect(box.keyIdOf(sealed)).toBe(keyArn);
    expect(await kmsBox(keyArn).open(sealed)).toBe('bind password');
  });

  it('asks KMS for one data key a minute and unwraps each data key once per process', async () => {
    const writer = kmsBox(keyArn);
    const before = { ...kms.calls };
    const sealed = await Promise.all(['a', 'b', 'c'].map((v) => writer.seal(v)));
    const reader = kmsBox(keyArn);
    for (let i = 0; i < 3; i++) for (const s of sealed) await reader.open(s);
    const afterMinute = { ...kms.calls };
    now += 61_000;
    await writer.seal('d');

    expect(afterMinute.GenerateDataKey! - (before.GenerateDataKey ?? 0)).toBe(1);
    expect(afterMinute.Decrypt! - (before.Decrypt ?? 0)).toBe(1);
    // After a minute, a new data key.
    expect(kms.calls.GenerateDataKey! - afterMinute.GenerateDataKey!).toBe(1);
  });

  it('opens values sealed under an older KMS key after the key changes, and refuses tampering', async () => {
    const old = await box.seal('under the first key');
    const second = kms.createKey();
    const next = kmsBox(second);
    const fresh = await next.seal('under the second key');

    expect(next.keyIdOf(fresh)).toBe(second);
    expect(await next.open(old)).toBe('under the first key');
    await expect(next.open(tamper(fresh))).rejects.toThrow(SecretUnavailableError);
  });

  it('says the secret is unavailable when KMS does not know the key', async () => {
    const missing = kmsBox(
      'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    );
    const error = await missing.seal('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect((error as SecretUnavailableError).status).toBe(503);
  });
});
