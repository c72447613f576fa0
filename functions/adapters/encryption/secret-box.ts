/**
 * The secret box the configuration asks for: KMS (SECRETS_KEY_ARN) on AWS, else the local key
 * file (SECRETS_KEY_FILE, by default DESKBROKER_HOME/secrets.key).
 */
import type { SecretsKeyTarget } from '../../config.ts';
import { EnvelopeSecretBox } from './envelope-box.ts';
import { KeyFileMasterKeys } from './key-file.ts';
import { KmsMasterKeys } from './kms-keys.ts';

export function createSecretBox(target: SecretsKeyTarget): EnvelopeSecretBox {
  return new EnvelopeSecretBox(
    target.kind === 'kms'
      ? new KmsMasterKeys(target.keyId, { region: target.region, endpoint: target.endpoint })
      : new KeyFileMasterKeys(target.path),
  );
}
