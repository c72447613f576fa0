/**
 * Agent keys: long random strings, stored and looked up as their SHA-256 (a fast hash is
 * enough for high-entropy keys).
 */
import { createHash } from 'node:crypto';

export function hashAgentKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
