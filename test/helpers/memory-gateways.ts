/**
 * In-memory gateway ports for unit tests: the `gateway_forward` records, the gateways'
 * control API (ports handed out from 20001, gateways that do not answer, their load), and the
 * registrations of gateways that register themselves.
 */
import { GatewayUnavailableError } from '../../functions/core/errors.ts';
import type {
  ForwardRecord,
  ForwardSpec,
  ForwardStore,
  GatewayControl,
  GatewayEndpoint,
  GatewayInfo,
  GatewayRegistry,
  OpenForward,
  RegisteredGateway,
} from '../../functions/core/gateways/ports.ts';
import { EXPIRED_LISTED_MS } from '../../functions/core/gateways/registration.ts';

/** The `gateway_forward` records. */
export class MemoryForwardStore implements ForwardStore {
  readonly forwards: (ForwardRecord & { closed: boolean })[] = [];
  async record(
    forwards: readonly ForwardRecord[],
    replacing?: { user: string; desktopId: number; live: readonly string[] },
  ) {
    if (replacing) {
      const live = new Set(replacing.live.map((n) => n.toLowerCase()));
      for (const f of this.forwards) {
        if (
          !f.closed &&
          f.gatewayId === null &&
          f.desktopId === replacing.desktopId &&
          f.user.toLowerCase() === replacing.user.toLowerCase() &&
          !live.has(f.gateway.toLowerCase())
        )
          f.closed = true;
      }
    }
    this.forwards.push(...forwards.map((f) => ({ ...f, closed: false })));
  }
  async closeForUser(user: string, desktopId?: number) {
    const closing = this.forwards.filter(
      (f) =>
        !f.closed &&
        f.user.toLowerCase() === user.toLowerCase() &&
        (desktopId === undefined || f.desktopId === desktopId),
    );
    for (const f of closing) f.closed = true;
    return closing.map(({ closed: _c, ...f }) => f);
  }
  async liveForGateway(gateway: string, now: number) {
    return this.forwards
      .filter((f) => !f.closed && f.gateway === gateway && f.expiresAt > now)
      .map(({ closed: _c, ...f }) => f);
  }
}

/**
 * Gateways' control APIs: each gateway hands out ports from 20001 up; a gateway named in
 * `down` answers nothing; `load` sets what `info` reports for one.
 */
export class MemoryGatewayControl implements GatewayControl {
  readonly open_ = new Map<string, OpenForward[]>();
  readonly down = new Set<string>();
  readonly load = new Map<string, number>();
  readonly closed: { gateway: string; key: string }[] = [];
  #check(g: GatewayEndpoint) {
    if (this.down.has(g.name)) throw new GatewayUnavailableError(g.name);
  }
  #of(g: GatewayEndpoint) {
    if (!this.open_.has(g.name)) this.open_.set(g.name, []);
    return this.open_.get(g.name)!;
  }
  async open(g: GatewayEndpoint, spec: ForwardSpec) {
    this.#check(g);
    const list = this.#of(g);
    const listenPort = spec.listenPort ?? 20001 + list.length;
    const forward = { ...spec, listenPort, connections: 0 };
    list.push(forward);
    return forward;
  }
  async close(g: GatewayEndpoint, key: string) {
    this.#check(g);
    this.closed.push({ gateway: g.name, key });
    this.open_.set(
      g.name,
      this.#of(g).filter((f) => f.key !== key),
    );
  }
  async list(g: GatewayEndpoint) {
    this.#check(g);
    return [...this.#of(g)];
  }
  async ping(g: GatewayEndpoint) {
    this.#check(g);
  }
  async info(g: GatewayEndpoint): Promise<GatewayInfo> {
    this.#check(g);
    const forwards = this.load.get(g.name) ?? this.#of(g).length;
    return {
      name: g.name,
      version: 'memory',
      forwards,
      connections: 0,
      accepted: 0,
      refused: 0,
      bytesFromClients: 0,
      bytesToClients: 0,
      portRange: { from: 20001, to: 23000 },
      brokerForwarding: { on: false },
      brokerSync: 'off',
      state: 'RUNNING',
      startedAt: new Date(0).toISOString(),
      rssBytes: 0,
    };
  }
}

/** Registrations by lower-case name; listed for an hour past their expiry, as the adapter does. */
export class MemoryGatewayRegistry implements GatewayRegistry {
  readonly items = new Map<string, RegisteredGateway>();
  async get(name: string) {
    return this.items.get(name.toLowerCase());
  }
  async put(g: RegisteredGateway) {
    this.items.set(g.name.toLowerCase(), g);
  }
  async remove(name: string) {
    return this.items.delete(name.toLowerCase());
  }
  async listRegistered(now: number) {
    return [...this.items.values()].filter((g) => g.expiresAt + EXPIRED_LISTED_MS > now);
  }
}
