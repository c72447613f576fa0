/**
 * The cached site snapshot: the configuration read from the site database at most once per
 * `ttlMs` per broker (and at once after an apply on this broker). Concurrent logins share one
 * read.
 *
 * - A copy that has aged by less than one more `ttlMs` still answers while a fresh one loads in
 *   the background, so a busy broker's requests never wait for the reload; an older copy (an
 *   idle broker, a Lambda that slept) is reloaded first, so a change reaches every broker
 *   within twice `ttlMs`. A copy an apply invalidated never answers again.
 * - When that reload finds the database down, `get` says so (DatabaseUnavailableError) and the
 *   request turns to leased mode at once.
 * - Leased mode reads {@link withoutDatabase}, which never asks the database: the last copy
 *   this broker loaded, else (a fresh Lambda) one built from the leased-mode copy in the state
 *   table, which holds what leased logins and launches need (authentication servers, gateways,
 *   leasing settings).
 */

import type { Clock } from '../../core/clock.ts';
import { DatabaseUnavailableError } from '../../core/errors.ts';
import { leasedSiteOf } from '../../core/leasing/leases.ts';
import type { LeasedModeMirror } from '../../core/leasing/ports.ts';
import { canonical } from '../../core/site-config/diff.ts';
import type { SiteSnapshotSource } from '../../core/site-config/ports.ts';
import { DEFAULT_SETTINGS, siteConfigSchema } from '../../core/site-config/schema.ts';
import type { SiteSnapshot } from '../../core/site-config/snapshot.ts';
import type { SiteDb } from './connect.ts';
import { readSiteConfig } from './site-config-store.ts';

export class CachedSnapshotSource implements SiteSnapshotSource {
  readonly #db: SiteDb;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #mirror: LeasedModeMirror | undefined;
  readonly #onMirrorError: (e: unknown) => void;
  #current: { at: number; snapshot: Promise<SiteSnapshot> } | undefined;
  #lastGood: SiteSnapshot | undefined;
  /** When `#lastGood` was read from the database. */
  #lastGoodAt = 0;
  #mirrored: string | undefined;

  constructor(
    db: SiteDb,
    clock: Clock,
    ttlMs: number,
    mirror?: { store: LeasedModeMirror; onError: (e: unknown) => void },
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#mirror = mirror?.store;
    this.#onMirrorError = mirror?.onError ?? (() => {});
  }

  get(): Promise<SiteSnapshot> {
    const now = this.#clock.now();
    const current = this.#current;
    if (current && now - current.at < this.#ttlMs) return current.snapshot;
    if (current && this.#lastGood && now - this.#lastGoodAt < 2 * this.#ttlMs) {
      // Aged: the copy at hand answers; the reload's result (or the same copy, when the
      // database does not answer) serves from now on.
      const stale = this.#lastGood;
      const entry = { at: now, snapshot: Promise.resolve(stale) };
      this.#current = entry;
      this.#load(now).then(
        (fresh) => {
          if (this.#current === entry)
            this.#current = { at: now, snapshot: Promise.resolve(fresh) };
        },
        () => {},
      );
      return entry.snapshot;
    }
    const snapshot = this.#load(now);
    const entry = { at: now, snapshot };
    this.#current = entry;
    snapshot.catch(() => {
      if (this.#current === entry) this.#current = undefined;
    });
    return snapshot;
  }

  /** After an apply: the next `get` waits for the new configuration (no aged copy answers). */
  invalidate(): void {
    this.#current = undefined;
  }

  /**
   * The configuration as leased mode knows it, never read from the database: the last snapshot
   * this broker loaded, else the leased-mode copy in the state table.
   */
  withoutDatabase(): SiteSnapshotSource {
    return {
      get: () =>
        this.#lastGood
          ? Promise.resolve(this.#lastGood)
          : this.#fallback(new DatabaseUnavailableError()),
      invalidate: () => {},
    };
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
    const snapshot: SiteSnapshot = {
      config,
      poolIds: new Map(pools.map((p) => [p.name.toLowerCase(), p.id])),
      poolNames: new Map(pools.map((p) => [p.id, p.name])),
      gatewayIds: new Map(gateways.map((g) => [g.name.toLowerCase(), g.id])),
      loadedAt: now,
    };
    this.#lastGood = snapshot;
    this.#lastGoodAt = now;
    this.#saveMirror(snapshot);
    return snapshot;
  }

  /** Keeps the leased-mode copy in step with the configuration, without delaying logins. */
  #saveMirror(snapshot: SiteSnapshot): void {
    if (!this.#mirror) return;
    const gatewayIds = Object.fromEntries(snapshot.gatewayIds);
    const copy = { ...leasedSiteOf(snapshot.config), gatewayIds };
    const text = canonical(copy);
    if (text === this.#mirrored) return;
    this.#mirrored = text;
    this.#mirror.saveSite(copy).catch((e: unknown) => {
      this.#mirrored = undefined;
      this.#onMirrorError(e);
    });
  }

  async #fallback(e: unknown): Promise<SiteSnapshot> {
    if (!(e instanceof DatabaseUnavailableError)) throw e;
    if (this.#lastGood) return this.#lastGood;
    const copy = this.#mirror ? await this.#mirror.loadSite() : undefined;
    if (!copy) throw e;
    const config = siteConfigSchema.parse({
      authServers: copy.authServers,
      gateways: copy.gateways,
      gatewayClusters: copy.gatewayClusters,
      settings: { ...DEFAULT_SETTINGS, leasing: copy.leasing, clientHeaders: copy.clientHeaders },
    });
    return {
      config,
      poolIds: new Map(),
      poolNames: new Map(),
      gatewayIds: new Map(Object.entries(copy.gatewayIds)),
      loadedAt: this.#clock.now(),
    };
  }
}
