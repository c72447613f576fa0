/** Ports of gateways: the control API client, the path a connection takes, and the forward records. */
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
  /** The gateway's state (`GET /info`): version, port range, forwards, connection counters. */
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

/** Opens the path a connection takes (gateway forwards), and closes them again. */
export interface GatewayRouter {
  open(request: PathRequest): Promise<ConnectionPath>;
  /** Closes the user's forwards (to one desktop, or all of them). */
  closeForUser(user: string, desktopId?: number): Promise<void>;
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
