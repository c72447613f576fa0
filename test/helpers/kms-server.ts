/**
 * A stand-in for AWS KMS, speaking the awsJson1_1 wire protocol that `@aws-sdk/client-kms`
 * uses (`POST /`, `X-Amz-Target: TrentService.<Operation>`, blobs as base64), written from the
 * KMS API reference and independently of the adapter it tests. It holds symmetric keys in
 * memory and answers the operations envelope encryption needs:
 *
 * - `CreateKey` → `{ KeyMetadata: { KeyId, Arn } }`
 * - `GenerateDataKey` `{ KeyId, KeySpec: AES_256 | NumberOfBytes, EncryptionContext }` →
 *   `{ KeyId (the ARN), Plaintext, CiphertextBlob }`
 * - `Decrypt` `{ CiphertextBlob, KeyId?, EncryptionContext }` → `{ KeyId, Plaintext }`
 * - `Encrypt` `{ KeyId, Plaintext, EncryptionContext }` → `{ KeyId, CiphertextBlob }`
 *
 * As KMS does, a ciphertext names its key (Decrypt needs no KeyId; a KeyId that is not the
 * ciphertext's is `IncorrectKeyException`), and the encryption context is bound to it (another
 * context is `InvalidCiphertextException`). Keys are found by id, ARN or `alias/` name.
 * Errors: status 400 with `{ __type, message }`.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KmsServer {
  readonly endpoint: string;
  /** Creates a key (optionally under an alias); returns its ARN. */
  createKey(alias?: string): string;
  /** Calls made, by operation (tests count Decrypt calls to check caching). */
  readonly calls: Record<string, number>;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

class KmsError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

function contextBytes(context: unknown): Buffer {
  const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Buffer.from(JSON.stringify(entries));
}

export async function startKmsServer(): Promise<KmsServer> {
  const keys = new Map<string, { arn: string; material: Buffer }>();
  const aliases = new Map<string, string>();
  const calls: Record<string, number> = {};

  const createKey = (alias?: string) => {
    const id = randomUUID();
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
    keys.set(arn, { arn, material: randomBytes(32) });
    if (alias) aliases.set(alias, arn);
    return arn;
  };

  const find = (keyId: unknown) => {
    if (typeof keyId !== 'string' || keyId === '') {
      throw new KmsError('ValidationException', 'KeyId is required');
    }
    const arn = keyId.startsWith('alias/')
      ? aliases.get(keyId)
      : keyId.startsWith('arn:')
        ? keyId
        : `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
    const key = arn ? keys.get(arn) : undefined;
    if (!key) throw new KmsError('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  };

  const encrypt = (keyId: unknown, plaintext: Buffer, context: unknown) => {
    const key = find(keyId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const arn = Buffer.from(key.arn);
    return { arn: key.arn, blob: Buffer.concat([Buffer.from([arn.length]), arn, iv, body]) };
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateKey: () => {
      const arn = createKey();
      return { KeyMetadata: { KeyId: arn.split('/').pop(), Arn: arn, Enabled: true } };
    },
    GenerateDataKey: (body) => {
      const bytes =
        body.KeySpec === 'AES_256'
          ? 32
          : body.KeySpec === 'AES_128'
            ? 16
            : Number(body.NumberOfBytes ?? Number.NaN);
      if (!(bytes >= 1 && bytes <= 1024)) {
        throw new KmsError('ValidationException', 'KeySpec or NumberOfBytes is required');
      }
      const plaintext = randomBytes(bytes);
      const { arn, blob } = encrypt(body.KeyId, plaintext, body.EncryptionContext);
      return {
        KeyId: arn,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: blob.toString('base64'),
      };
    },
    Encrypt: (body) => {
      const { arn, blob } = encrypt(
        body.KeyId,
        Buffer.from(String(body.Plaintext ?? ''), 'base64'),
        body.EncryptionContext,
      );
      return { KeyId: arn, CiphertextBlob: blob.toString('base64') };
    },
    Decrypt: (body) => {
      const blob = Buffer.from(String(body.CiphertextBlob ?? ''), 'base64');
      const arnLength = blob[0] ?? 0;
      const arn = blob.subarray(1, 1 + arnLength).toString();
      const key = keys.get(arn);
      if (!key || blob.length < 1 + arnLength + 12 + 16) {
        throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid');
      }
      if (body.KeyId !== undefined && find(body.KeyId).arn !== arn) {
        throw new KmsError('IncorrectKeyException', 'The key ID does not match the ciphertext');
      }
      const iv = blob.subarray(1 + arnLength, 13 + arnLength);
      const rest = blob.subarray(13 + arnLength);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.material, iv);
        decipher.setAAD(contextBytes(body.EncryptionContext));
        decipher.setAuthTag(rest.subarray(rest.length - 16));
        const plaintext = Buffer.concat([
          decipher.update(rest.subarray(0, rest.length - 16)),
          decipher.final(),
        ]);
        return { KeyId: arn, Plaintext: plaintext.toString('base64') };
      } catch {
        throw new KmsError('InvalidCiphertextException', 'The ciphertext is invalid');
      }
    },
  };

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };

  const server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const name = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    readBody(req)
      .then((body) => {
        const operation = operations[name];
        if (!operation) throw new KmsError('UnknownOperationException', `no operation ${target}`);
        calls[name] = (calls[name] ?? 0) + 1;
        const out = JSON.stringify(operation(body));
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(out);
      })
      .catch((e: unknown) => {
        const type = e instanceof KmsError ? e.type : 'KMSInternalException';
        res
          .writeHead(e instanceof KmsError ? 400 : 500, {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-errortype': type,
          })
          .end(JSON.stringify({ __type: type, message: (e as Error).message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    createKey,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
