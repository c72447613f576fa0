/**
 * Sealing stored secrets after the fact: clear values a site stored before secrets were
 * encrypted (sealed on first start and by the deploy-time migration), and re-encryption of
 * every value under the current key with fresh data keys (after a key rotation).
 */
import type { SecretBox, StoredSecrets } from './ports.ts';

export interface ResealDeps {
  readonly box: SecretBox;
  readonly stored: StoredSecrets;
  /** Runs when something changed (the leased-mode copy is written again, caches dropped). */
  readonly afterChange?: () => Promise<void>;
}

/**
 * Seals the clear values (`mode: 'clear'`), or re-seals every value under the current key
 * (`mode: 'all'`), in one transaction.
 * @throws {SecretUnavailableError} when a value cannot be opened (its key is missing here).
 */
export async function resealSecrets(
  deps: ResealDeps,
  mode: 'clear' | 'all',
): Promise<{ resealed: number; total: number }> {
  const all = await deps.stored.list();
  const due = all.filter((s) => mode === 'all' || !deps.box.isSealed(s.value));
  const changes = [];
  for (const s of due) {
    changes.push({
      ref: s.ref,
      from: s.value,
      to: await deps.box.seal(await deps.box.open(s.value)),
    });
  }
  const resealed = changes.length > 0 ? await deps.stored.replace(changes) : 0;
  if (resealed > 0) await deps.afterChange?.();
  return { resealed, total: all.length };
}

/** How many stored secrets are sealed under each key id (`clear` for unsealed ones). */
export async function secretsByKey(
  deps: Pick<ResealDeps, 'box' | 'stored'>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const s of await deps.stored.list()) {
    const key = deps.box.keyIdOf(s.value) ?? 'clear';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
