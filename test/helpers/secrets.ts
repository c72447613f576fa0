/**
 * A real secret box for tests that apply configurations without a broker: envelope encryption
 * under a key file of its own in a temporary folder.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvelopeSecretBox } from '../../functions/adapters/encryption/envelope-box.ts';
import { ensureKeyFile, KeyFileMasterKeys } from '../../functions/adapters/encryption/key-file.ts';

export function testSecretBox(): { box: EnvelopeSecretBox; keyFile: string } {
  const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'deskbroker-keys-')), 'secrets.key');
  ensureKeyFile(keyFile);
  return { box: new EnvelopeSecretBox(new KeyFileMasterKeys(keyFile)), keyFile };
}
