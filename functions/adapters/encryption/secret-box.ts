/**
 * The secret box the configuration asks for: KMS (SECRETS_KEY_ARN) on AWS, else the local key
 * file (SECRETS_KEY_FILE, by default DESKBROKER_HOME/secrets.key). The master keys' code loads
 * with the first secret sealed or opened (most requests open none), so a Lambda carries only
 * the small envelope at start; neither adapter touches its key before first use anyway.
 */
import type { SecretsKeyTarget } from '../../config.ts';
import { EnvelopeSecretBox, type MasterKeys } from './envelope-box.ts';

/** Master keys made by `load` on first use. */
function loadedOnUse(load: () => Promise<MasterKeys>): MasterKeys {
  let keys: Promise<MasterKeys> | undefined;
  const get = () => {
    keys ??= load();
    return keys;
  };
  return {
    currentKeyId: async () => (await get()).currentKeyId(),
    newDataKey: async () => (await get()).newDataKey(),
    unwrap: async (keyId, wrapped) => (await get()).unwrap(keyId, wrapped),
  };
}

export function createSecretBox(target: SecretsKeyTarget): EnvelopeSecretBox {
  return new EnvelopeSecretBox(
    loadedOnUse(async () =>
      target.kind === 'kms'
        ? new (await import('./kms-keys.ts')).KmsMasterKeys(target.keyId, {
            region: target.region,
            endpoint: target.endpoint,
          })
        : new (await import('./key-file.ts')).KeyFileMasterKeys(target.path),
    ),
  );
}
