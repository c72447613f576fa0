/** Ports of offers and connections: the desktops, claims, releases and log rows in the site database. */
import type { DesktopRecord } from './offers.ts';

/** Which desktops to read for an offer list: the user's own, and free ones per pool. */
export interface OfferQuery {
  readonly user: string;
  readonly poolIds: readonly number[];
  /** Free candidates to read per pool. */
  readonly perPool: number;
}

/** A log row: who did what, when, where. Kept small (the guide budgets ~5 KB per login). */
export interface LogEntry {
  readonly event: string;
  readonly user: string | null;
  readonly desktopId?: number | null;
  readonly clientIp?: string | null;
  readonly detail?: string | null;
}

export interface LoginRecord {
  readonly user: string;
  readonly client: {
    readonly name: string;
    readonly ip: string;
    readonly loginGateway: string | null;
    readonly attributes: Readonly<Record<string, string>>;
  };
  readonly detail: string;
}

/** How a desktop goes back to its pool, by pool id (from the policy entry it was offered under). */
export type ReleaseRules = ReadonlyMap<
  number,
  { release: 'on_logout' | 'on_disconnect' | 'never'; delaySeconds: number }
>;

export interface ClaimRequest {
  readonly user: string;
  readonly desktopId: number;
  /** Pools the user's policy offers from (primary and backup). */
  readonly policyPoolIds: readonly number[];
  /** Of those, the pools whose protocol plan offers the protocol asked for. */
  readonly claimablePoolIds: readonly number[];
  /** Whether the user's own desktops outside the policy's pools may be claimed (default plan). */
  readonly otherPoolsClaimable: boolean;
  readonly releaseRules: ReleaseRules;
  /** The connect log row's detail by pool id ("rdp via east"); `defaultDetail` elsewhere. */
  readonly logDetails: ReadonlyMap<number, string>;
  readonly defaultDetail: string;
  readonly clientIp: string;
}

/** Desktops in the site database: offers, claims, releases, agent events. */
export interface DesktopStore {
  /**
   * In one round trip: registers (upserts) the client, writes the login log row, and reads
   * the offer candidates.
   */
  recordLogin(
    record: LoginRecord,
    query: OfferQuery,
  ): Promise<{ clientId: number; desktops: DesktopRecord[] }>;
  /** The offer candidates alone (a refreshed offer list). */
  offerCandidates(query: OfferQuery): Promise<DesktopRecord[]>;
  /**
   * Atomically hands a desktop to the user and logs it, in one statement: the one asked for
   * when it is free or already the user's, else another free desktop of the same pool.
   * Resolves undefined when there is none; never gives one desktop to two users.
   */
  claim(request: ClaimRequest): Promise<DesktopRecord | undefined>;
  /** Why {@link claim} found nothing (only asked on that failure path). */
  whyNotClaimed(
    request: ClaimRequest,
  ): Promise<'unknown_desktop' | 'not_yours' | 'pool_exhausted' | 'unsupported_protocol'>;
  /** Releases a desktop the user holds; undefined when the user does not hold it. */
  release(user: string, desktopId: number, clientIp: string): Promise<DesktopRecord | undefined>;
  /** At broker logout: releases the user's idle desktops whose rule is on_logout; logs the logout. */
  releaseOnLogout(user: string, clientIp: string): Promise<DesktopRecord[]>;
  /** Releases desktops whose disconnect delay has passed (the delayed_release job). */
  releaseExpiredDisconnects(now: number): Promise<DesktopRecord[]>;
  appendLog(entries: readonly LogEntry[]): Promise<void>;
}
