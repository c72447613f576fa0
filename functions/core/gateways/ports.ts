/**
 * Ports of gateways: the control API client, the path a connection takes, the forward
 * records, the nonces of signed calls, and the registrations of gateways that announce
 * themselves.
 */
import type { ForwardSpecBody, GatewayInfo, OpenForwardBody } from './control-contract.ts';

export type { GatewayInfo };

/**
 * One TCP port forward on a gateway: listenPort on the gateway → desktop host:port, for one
 * client IP. The shapes are the control API's contract (./control-contract.ts).
 */
export type ForwardSpec = Readonly<ForwardSpecBody>;

/** An open forward: its port, and the connections through it now. */
export type OpenForward = Readonly<OpenForwardBody>;

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
   * The gateway's state (`GET /info`): version, port range, forwards, connection counters,
   * and HTML5 display (`html5.connections`: browser connections it bridges; absent from
   * gateways older than HTML5 display).
   */
  info(gateway: GatewayEndpoint): Promise<GatewayInfo>;
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
  /** The fixed gateway's id in the site database; null on a registered gateway. */
  readonly gatewayId: number | null;
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
  /**
   * Records forwards just opened (one statement). With `replacing`, also closes that user's
   * live forwards to that desktop on registered gateways not in `live` (gateways that went
   * away: the new forward takes their place).
   */
  record(
    forwards: readonly ForwardRecord[],
    replacing?: {
      readonly user: string;
      readonly desktopId: number;
      readonly live: readonly string[];
    },
  ): Promise<void>;
  /** Marks the user's live forwards (to one desktop, or all) closed and returns them. */
  closeForUser(user: string, desktopId?: number): Promise<ForwardRecord[]>;
  /** The live, unexpired forwards of one gateway (a restarted gateway re-opens them). */
  liveForGateway(gateway: string, now: number): Promise<ForwardRecord[]>;
}

/**
 * Where verified nonces are remembered, for replay protection. A verifier that runs in many
 * processes (broker Lambdas, several local brokers) must share one store, or a request
 * captured on its way to one of them could be replayed against another.
 */
export interface NonceStore {
  /**
   * Remembers `nonce` until `until` (epoch ms) if it is new. `seen` when it is remembered
   * already; `full` when the store cannot take more now (the request is refused, never let
   * through).
   */
  remember(nonce: string, until: number, now: number): Promise<'new' | 'seen' | 'full'>;
}

/** A gateway that registered itself with the broker (see core/gateways/registration.ts). */
export interface RegisteredGateway {
  readonly name: string;
  /** Its private address, as it gave it or as the broker saw the call come from. */
  readonly address: string;
  /** Where clients connect to its forwards. */
  readonly publicAddress: string;
  readonly controlUrl: string;
  readonly portRange: { readonly from: number; readonly to: number };
  readonly version: string;
  /** Lower case; the clusters with one of these tags have it as a member. */
  readonly tags: readonly string[];
  readonly renewSeconds: number;
  readonly capacity: { readonly forwards: number };
  /** Its counters at the last renewal. */
  readonly stats: {
    readonly forwards: number;
    readonly connections: number;
    readonly bytesFromClients: number;
    readonly bytesToClients: number;
  };
  /** Epoch ms of its first registration (since it was last dropped). */
  readonly registeredAt: number;
  /** Epoch ms of its last renewal. */
  readonly renewedAt: number;
  /** Epoch ms after which it is dropped unless it renews. */
  readonly expiresAt: number;
}

/** The registrations (the state table on every runtime, so every broker and Lambda sees them). */
export interface GatewayRegistry {
  /** One registration by name (live or recently expired). */
  get(name: string): Promise<RegisteredGateway | undefined>;
  put(registration: RegisteredGateway): Promise<void>;
  /** Removes one; resolves false when there was none. */
  remove(name: string): Promise<boolean>;
  /**
   * Every registration kept: the live ones and those expired within the last hour (the
   * admin's gateway list shows them as dropped), by name.
   */
  listRegistered(now: number): Promise<RegisteredGateway[]>;
}
