/**
 * The cached site snapshot: the configuration read from the site database at most once per
 * `ttlMs` per broker (and at once after an apply on this broker). Concurrent logins share one
 * read. A read that fails is not cached.
 */
import type { Clock, SiteSnapshotSource } from '../../core/ports.ts';
import type { SiteSnapshot } from '../../core/site-snapshot.ts';
import type { SiteDb } from './connect.ts';
import { readSiteConfig } from './site-config-store.ts';

export class CachedSnapshotSource implements SiteSnapshotSource {
  readonly #db: SiteDb;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #current: { at: number; snapshot: Promise<SiteSnapshot> } | undefined;

  constructor(db: SiteDb, clock: Clock, ttlMs: number) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  get(): Promise<SiteSnapshot> {
    const now = this.#clock.now();
    if (this.#current && now - this.#current.at < this.#ttlMs) return this.#current.snapshot;
    const snapshot = this.#load(now);
    const entry = { at: now, snapshot };
    this.#current = entry;
    snapshot.catch(() => {
      if (this.#current === entry) this.#current = undefined;
    });
    return snapshot;
  }

  invalidate(): void {
    this.#current = undefined;
  }

  async #load(now: number): Promise<SiteSnapshot> {
    const [config, pools, gateways] = await Promise.all([
      readSiteConfig(this.#db),
      this.#db.selectFrom('pool').select(['id', 'name']).where('deletedAt', 'is', null).execute(),
      this.#db
        .selectFrom('gateway')
        .select(['id', 'name'])
        .where('deletedAt', 'is', null)
        .execute(),
    ]);
    return {
      config,
      poolIds: new Map(pools.map((p) => [p.name.toLowerCase(), p.id])),
      poolNames: new Map(pools.map((p) => [p.id, p.name])),
      gatewayIds: new Map(gateways.map((g) => [g.name.toLowerCase(), g.id])),
      loadedAt: now,
    };
  }
}
