/** Ports of gateways: the control API client, the path a connection takes, and the forward records. */

/** One TCP port forward on a gateway: listenPort on the gateway → desktop host:port, for one client IP. */
export interface ForwardSpec {
  /** Random key naming the forward (the guide's `Key` column). */
  readonly key: string;
  /** A port from the gateway's range; the gateway picks a free one when absent. */
  readonly listenPort?: number;
  readonly desktopHost: string;
  readonly desktopPort: number;
  /** The only source address allowed to connect. */
  readonly clientIp: string;
  /** Epoch milliseconds after which the forward closes. */
  readonly expiresAt: number;
  /** Seconds without traffic after which a connection is closed; the forward stays. */
  readonly idleSeconds?: number;
}

export interface OpenForward extends ForwardSpec {
  readonly listenPort: number;
  /** Connections open through it now. */
  readonly connections: number;
}

/** How the broker reaches a gateway's control API. */
export interface GatewayEndpoint {
  readonly name: string;
  readonly controlUrl: string;
}

/** The broker's side of the gateway control API. */
export interface GatewayControl {
  /** Opens (or re-opens, same key) a forward; resolves with the port it listens on. */
  open(gateway: GatewayEndpoint, forward: ForwardSpec): Promise<OpenForward>;
  /** Closes a forward; closing an unknown key is not an error. */
  close(gateway: GatewayEndpoint, key: string): Promise<void>;
  list(gateway: GatewayEndpoint): Promise<OpenForward[]>;
  /** Resolves when the gateway's control API answers. */
  ping(gateway: GatewayEndpoint): Promise<void>;
  /**
   * The gateway's state; `forwards` is how many forwards it holds open, `html5.connections`
   * how many browser connections it bridges (absent from gateways before HTML5 display).
   */
  info(
    gateway: GatewayEndpoint,
  ): Promise<{ readonly forwards: number; readonly html5?: { readonly connections: number } }>;
}

/** How a client reaches a desktop: directly, or through a gateway forward. */
export type ConnectionPath =
  | { readonly via: 'direct'; readonly host: string; readonly port: number }
  | {
      readonly via: 'gateway';
      readonly host: string;
      readonly port: number;
      readonly gateway: string;
    };

export interface PathRequest {
  readonly user: string;
  readonly desktop: { readonly id: number; readonly name: string; readonly address: string };
  readonly protocol: {
    readonly protocol: string;
    readonly port: number;
    readonly gateway?: string;
  };
  readonly clientIp: string;
  readonly loginGateway: string | null;
  /** When the forward may close at the latest (the end of the user's session), epoch ms. */
  readonly expiresAt: number;
}

/** Where a browser opens its WebSocket for a desktop shown in the browser (HTML5 display). */
export interface BrowserPath {
  /** The gateway or gateway cluster chosen, as the site configuration names it. */
  readonly gateway: string;
  /** `ws://` or `wss://` URL of the gateway's (or its load balancer's) bridge endpoint. */
  readonly url: string;
}

/** Opens the path a connection takes (gateway forwards), and closes them again. */
export interface GatewayRouter {
  open(request: PathRequest): Promise<ConnectionPath>;
  /**
   * Picks the gateway a browser bridges through, by the same plan and cluster rules as
   * {@link open}; opens nothing (the browser's ticket is redeemed when it connects).
   */
  openBrowser(request: PathRequest): Promise<BrowserPath>;
  /** Closes the user's forwards and HTML5 connections (to one desktop, or all of them). */
  closeForUser(user: string, desktopId?: number): Promise<void>;
}

/** A redeemed HTML5 ticket: a browser bridged to a desktop by one gateway. */
export interface Html5SessionRecord {
  /** The ticket id; the gateway knows the bridge by it. */
  readonly key: string;
  readonly user: string;
  readonly desktopId: number;
  /** The gateway that redeemed it (and holds the bridge). */
  readonly gateway: string;
  readonly clientIp: string;
  readonly desktopHost: string;
  readonly desktopPort: number;
  readonly redeemedAt: number;
  /** The end of the user's session: the bridge closes then at the latest. */
  readonly closeAt: number;
  /** Until when the ticket itself was valid (its single-use record lives at least that long). */
  readonly ticketExpiresAt: number;
}

/** Redeemed HTML5 tickets, in the state table (so redeeming works in leased mode too). */
export interface Html5SessionStore {
  /**
   * Records a redeemed ticket with a conditional write. Resolves false when its key was
   * recorded before (the ticket is being replayed), on any broker.
   */
  redeem(record: Html5SessionRecord): Promise<boolean>;
  /**
   * Whether the user's HTML5 sessions to the desktop were closed (release, sign-out, agent
   * logout) at or after `since`: a ticket issued before that must not open a bridge.
   */
  revokedSince(user: string, desktopId: number, since: number): Promise<boolean>;
  /**
   * Marks the user's live HTML5 sessions (to one desktop, or all) closed and returns them;
   * first records the closing, so tickets issued until now are refused ({@link revokedSince}).
   */
  closeForUser(
    user: string,
    desktopId: number | undefined,
    now: number,
  ): Promise<Html5SessionRecord[]>;
}

/** A gateway forward as the site database records it. */
export interface ForwardRecord {
  readonly gatewayId: number;
  readonly gateway: string;
  readonly desktopId: number;
  readonly user: string;
  readonly clientIp: string;
  readonly listenPort: number;
  readonly desktopHost: string;
  readonly desktopPort: number;
  readonly key: string;
  readonly expiresAt: number;
}

/** The `gateway_forward` records: what every gateway should hold open. */
export interface ForwardStore {
  /** Records forwards just opened (one statement). */
  record(forwards: readonly ForwardRecord[]): Promise<void>;
  /** Marks the user's live forwards (to one desktop, or all) closed and returns them. */
  closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]>;
  /** The live, unexpired forwards of one gateway (a restarted gateway re-opens them). */
  liveForGateway(gateway: string, now: number): Promise<ForwardRecord[]>;
}
