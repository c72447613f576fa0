/**
 * A stand-in for AWS Secrets Manager's `GetSecretValue` (the only call the broker makes), over
 * the awsJson1_1 protocol the SDK speaks: `POST /` with `X-Amz-Target:
 * secretsmanager.GetSecretValue` and `{ SecretId }`. Point a client at it with
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as a deployed function's SDK would be pointed at AWS.
 * Unknown secrets get `ResourceNotFoundException`, as from the service.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerServer {
  readonly endpoint: string;
  /** The calls made so far, by secret ARN. */
  readonly reads: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** Serves `secrets` (ARN → string value) on loopback. */
export async function startSecretsManagerServer(
  secrets: Readonly<Record<string, string>>,
): Promise<SecretsManagerServer> {
  const reads = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return send(
          400,
          { message: 'only GetSecretValue is served here' },
          'InvalidRequestException',
        );
      }
      let secretId: string | undefined;
      try {
        secretId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string })
          .SecretId;
      } catch {
        return send(400, { message: 'bad JSON' }, 'InvalidRequestException');
      }
      const value = secretId === undefined ? undefined : secrets[secretId];
      if (secretId === undefined || value === undefined) {
        return send(
          400,
          { message: "Secrets Manager can't find the specified secret." },
          'ResourceNotFoundException',
        );
      }
      reads.set(secretId, (reads.get(secretId) ?? 0) + 1);
      send(200, {
        ARN: secretId,
        Name: secretId.split(':').at(-1),
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    reads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
