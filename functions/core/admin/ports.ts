/**
 * Ports of the admin console's views: what the site database answers about desktops, pools,
 * clients, gateways and the log, one page at a time, and the administrator's release of a
 * desktop. Times are epoch milliseconds; positions are where the next page starts (the API
 * hands them out as opaque cursors).
 */

/**
 * A desktop's state as the console shows it, judged in this order:
 * - `agent silent`: its agent (it has an agent key) has missed 3 heartbeats while a user holds
 *   it or a session is open: the broker cannot tell whether the user is still on it;
 * - `in use`: a user holds it, and its agent reports a session (or it has no agent, and the
 *   broker's own claim is all there is to know);
 * - `assigned`: handed to a user who has no session on it: held, with an agent that reports
 *   nobody logged in, or hard-assigned and waiting for its user;
 * - `unreachable`: taken out of the offers (refresh_pool: no agent heartbeat for 3 periods);
 * - `available`: free to be offered.
 */
export const DESKTOP_STATUSES = [
  'available',
  'assigned',
  'in use',
  'unreachable',
  'agent silent',
] as const;
export type DesktopStatus = (typeof DESKTOP_STATUSES)[number];

/** One page of a list, and where the next one starts (undefined on the last page). */
export interface Page<T, Position> {
  readonly items: readonly T[];
  readonly next: Position | undefined;
}

export interface PageRequest<Position> {
  readonly limit: number;
  readonly after?: Position;
}

export interface DesktopFilter {
  readonly pool?: string;
  readonly status?: DesktopStatus;
  /** The user who holds it or to whom it is hard-assigned (any case). */
  readonly user?: string;
}

/** Desktops are listed by name. */
export interface DesktopPosition {
  readonly name: string;
  readonly id: number;
}

export interface AdminDesktop {
  readonly id: number;
  readonly name: string;
  readonly pool: string;
  readonly address: string;
  readonly status: DesktopStatus;
  readonly assignedTo: string | null;
  readonly heldBy: string | null;
  readonly heldSince: number | null;
  /** What the agent last reported about a user session. */
  readonly sessionState: 'none' | 'connected' | 'disconnected';
  readonly agent: {
    /** Whether the desktop has an agent key (its agent reports to the broker). */
    readonly managed: boolean;
    readonly lastSeenAt: number | null;
    /** The agent's last logged event (login, logout, disconnect, reconnect). */
    readonly lastEvent: { readonly event: string; readonly at: number } | null;
  };
  /** Where the holder launched it from: the client of the connect that claimed it. */
  readonly launchedFrom: {
    readonly address: string | null;
    readonly client: string | null;
    readonly at: number;
  } | null;
}

/** Desktop counts of a pool by status, and the policies that offer from it. */
export interface PoolUsage {
  readonly name: string;
  readonly total: number;
  readonly counts: Readonly<Record<DesktopStatus, number>>;
  readonly policies: readonly { readonly name: string; readonly as: 'primary' | 'backup' }[];
}

/** A client device as registered at login (the guide's Resources > Clients). */
export interface AdminClient {
  readonly id: number;
  readonly name: string;
  readonly address: string;
  readonly loginGateway: string | null;
  /** The HTTP headers the site records and the attributes the client reported. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly lastUser: string | null;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

/** Clients are listed most recently seen first; `at` is epoch microseconds, as text. */
export interface TimePosition {
  readonly at: string;
  readonly id: number;
}

export interface AdminGateway {
  readonly name: string;
  readonly address: string;
  readonly publicAddress: string;
  readonly controlUrl: string;
  readonly portRange: readonly [number, number];
  /** The last verdict of the check_gateway job. */
  readonly status: 'up' | 'down' | 'unknown';
  /** Since when it has had that verdict (null before the first check). */
  readonly statusSince: number | null;
  readonly checkedAt: number | null;
  /** What the gateway itself reported at its last check (`GET /info`), if it answered one. */
  readonly reported: {
    readonly version: string | null;
    readonly portRange: readonly [number, number] | null;
  } | null;
  /** Live, unexpired forwards the broker opened on it. */
  readonly forwardsOpen: number;
  readonly clusters: readonly string[];
}

export interface LogFilter {
  /** Any case. */
  readonly user?: string;
  readonly event?: string;
  /** Inclusive lower bound, epoch ms. */
  readonly from?: number;
  /** Exclusive upper bound, epoch ms. */
  readonly to?: number;
}

export interface LogRecord {
  readonly id: number;
  readonly at: number;
  readonly event: string;
  readonly user: string | null;
  readonly desktopId: number | null;
  readonly desktop: string | null;
  readonly clientIp: string | null;
  readonly siteId: number | null;
  readonly detail: string | null;
}

/** The site database's desktop views. */
export interface DesktopViews {
  /** Desktops by name; `silentBefore` is when an agent last seen earlier counts as silent. */
  desktops(
    filter: DesktopFilter,
    page: PageRequest<DesktopPosition>,
    silentBefore: number,
  ): Promise<Page<AdminDesktop, DesktopPosition>>;
  /** Pools by name. */
  pools(page: PageRequest<string>, silentBefore: number): Promise<Page<PoolUsage, string>>;
  /**
   * Gives a held desktop back to its pool and logs it, naming the administrator, in one
   * transaction. Resolves `undefined` for an unknown desktop; `heldBy` null when nobody held it.
   */
  releaseDesktop(
    desktopId: number,
    by: string,
  ): Promise<{ readonly name: string; readonly heldBy: string | null } | undefined>;
}

/** The site database's views of clients, gateways and the log. */
export interface ActivityViews {
  clients(
    filter: { readonly user?: string },
    page: PageRequest<TimePosition>,
  ): Promise<Page<AdminClient, TimePosition>>;
  /** Gateways of the site configuration by name; forwards count when unexpired at `now`. */
  gateways(page: PageRequest<string>, now: number): Promise<Page<AdminGateway, string>>;
  /** Live forwards on registered gateways (no row in `gateway`), by lower-case name. */
  forwardsOnRegistered(names: readonly string[], now: number): Promise<Map<string, number>>;
  /** Log rows, newest or oldest first, each with its own position (exports stop mid-page). */
  log(
    filter: LogFilter,
    page: PageRequest<TimePosition> & { readonly order: 'newest' | 'oldest' },
  ): Promise<Page<LogRow, TimePosition>>;
}

/** A log row and where a listing that stops after it goes on. */
export interface LogRow extends LogRecord {
  readonly position: TimePosition;
}
