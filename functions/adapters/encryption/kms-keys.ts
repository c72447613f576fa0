/**
 * The master key on AWS: a KMS key (made by the CDK app, SECRETS_KEY_ARN). Data keys come from
 * GenerateDataKey and are unwrapped with Decrypt, both with the same encryption context, so a
 * data key of deskbroker's cannot be unwrapped for another purpose. KMS keeps every version of
 * a rotated key's material, so values sealed before an automatic rotation still open.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { MasterKeys } from './envelope-box.ts';

/** Bound into every data key: Decrypt refuses a blob presented with another context. */
export const ENCRYPTION_CONTEXT = { purpose: 'deskbroker-stored-secrets' } as const;

export class KmsMasterKeys implements MasterKeys {
  readonly #keyId: string;
  readonly #options: { region: string; endpoint?: string };
  #client: Promise<{ client: KMSClient; sdk: typeof import('@aws-sdk/client-kms') }> | undefined;

  /** @param keyId the key's ARN (or id or alias) that new data keys are made under. */
  constructor(keyId: string, options: { region: string; endpoint?: string }) {
    this.#keyId = keyId;
    this.#options = options;
  }

  async currentKeyId(): Promise<string> {
    return this.#keyId;
  }

  async newDataKey(): Promise<{ keyId: string; plaintext: Buffer; wrapped: Buffer }> {
    const { client, sdk } = await this.#kms();
    const out = await client.send(
      new sdk.GenerateDataKeyCommand({
        KeyId: this.#keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { ...ENCRYPTION_CONTEXT },
      }),
    );
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId) {
      throw new Error('KMS GenerateDataKey answered without a data key');
    }
    return {
      keyId: out.KeyId,
      plaintext: Buffer.from(out.Plaintext),
      wrapped: Buffer.from(out.CiphertextBlob),
    };
  }

  async unwrap(keyId: string, wrapped: Buffer): Promise<Buffer> {
    const { client, sdk } = await this.#kms();
    const out = await client.send(
      new sdk.DecryptCommand({
        CiphertextBlob: wrapped,
        KeyId: keyId,
        EncryptionContext: { ...ENCRYPTION_CONTEXT },
      }),
    );
    if (!out.Plaintext) throw new Error('KMS Decrypt answered without the data key');
    return Buffer.from(out.Plaintext);
  }

  /** The SDK is loaded on first use: functions that never open a secret do not pay for it. */
  #kms() {
    this.#client ??= import('@aws-sdk/client-kms').then((sdk) => ({
      sdk,
      client: new sdk.KMSClient({
        region: this.#options.region,
        endpoint: this.#options.endpoint,
        ...(this.#options.endpoint
          ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
          : {}),
        maxAttempts: 3,
      }),
    }));
    return this.#client;
  }
}
