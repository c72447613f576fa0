/**
 * The broker's side of the gateways (the guide's "Using Gateway Clusters"): on connect through
 * a plan that names a gateway or a gateway cluster, pick the gateway by the cluster's mode,
 * open a forward on it, record it, and hand the client the gateway's public address and port.
 * - `all`: open on every member (same port) and return the load balancer's address;
 * - `login`: the gateway that forwarded this user's login;
 * - `fewest`: the member with the fewest open forwards and HTML5 connections.
 * A cluster's members are its fixed `members` and, with a `tag`, every live registered
 * gateway with that tag (core/gateways/registration.ts). A gateway that does not answer is
 * skipped in `fewest` and `all`. A new forward to a desktop replaces the user's forwards to it
 * on registered gateways that went away. For a desktop shown in the browser the same rules
 * pick the gateway the browser goes to (./browser-path.ts); closing a user's paths closes their
 * browser connections too.
 */
import { randomBytes } from 'node:crypto';
import { GatewayUnavailableError, ServiceUnavailableError } from '../errors.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import { byName } from '../site-config/snapshot.ts';
import { chooseBrowserPath } from './browser-path.ts';
import type {
  ConnectionPath,
  ForwardRecord,
  ForwardStore,
  GatewayControl,
  GatewayRegistry,
  GatewayRouter,
  Html5SessionStore,
  PathRequest,
  RegisteredGateway,
} from './ports.ts';
import { fixedGateway, isLive, type RoutableGateway, routableRegistered } from './registration.ts';
import { endpoint, gatewayLoad, resolveTarget } from './targets.ts';

export interface GatewayRoutingDeps {
  readonly snapshot: SiteSnapshotSource;
  /** Undefined when no gateway secret is configured: plans through a gateway then fail clearly. */
  readonly control: GatewayControl | undefined;
  readonly forwards: ForwardStore;
  /** Gateways that registered themselves. */
  readonly registry: GatewayRegistry;
  /** The broker's clock (registration expiry). */
  readonly now: () => number;
  /** Redeemed HTML5 tickets; closing a user's paths closes their browser connections too. */
  readonly html5?: Html5SessionStore;
  /** Reports a gateway that failed to close a forward (it will expire on its own). */
  readonly warn: (message: string, details: Record<string, unknown>) => void;
}

export function createGatewayRouter(deps: GatewayRoutingDeps): GatewayRouter {
  async function openOn(
    control: GatewayControl,
    gateway: RoutableGateway,
    request: PathRequest,
    key: string,
    listenPort?: number,
  ) {
    return control.open(endpoint(gateway), {
      key,
      listenPort,
      desktopHost: request.desktop.address,
      desktopPort: request.protocol.port,
      clientIp: request.clientIp,
      expiresAt: request.expiresAt,
    });
  }

  /** The live registrations, read only when a cluster has a tag. */
  async function liveRegistrations(): Promise<RegisteredGateway[]> {
    const now = deps.now();
    return (await deps.registry.listRegistered(now)).filter((g) => isLive(g, now));
  }

  return {
    async open(request: PathRequest): Promise<ConnectionPath> {
      const target = request.protocol.gateway;
      if (target === undefined) {
        return { via: 'direct', host: request.desktop.address, port: request.protocol.port };
      }
      const control = deps.control;
      if (!control) {
        throw new ServiceUnavailableError(
          'gateway_not_configured',
          'this broker has no gateway secret (GATEWAY_SECRET)',
        );
      }
      const snapshot = await deps.snapshot.get();
      const key = randomBytes(16).toString('hex');
      const record = (g: RoutableGateway, listenPort: number): ForwardRecord => ({
        gatewayId: g.gatewayId,
        gateway: g.name,
        desktopId: request.desktop.id,
        user: request.user,
        clientIp: request.clientIp,
        listenPort,
        desktopHost: request.desktop.address,
        desktopPort: request.protocol.port,
        key,
        expiresAt: request.expiresAt,
      });

      const { cluster, members, live } = await resolveTarget(snapshot, target, liveRegistrations);
      // The forwards this one replaces: the user's to this desktop on registered gateways gone.
      const replacing = live && {
        user: request.user,
        desktopId: request.desktop.id,
        live: live.map((g) => g.name),
      };

      if (cluster?.mode === 'all') {
        const opened: ForwardRecord[] = [];
        let port: number | undefined;
        let last: unknown;
        for (const g of members) {
          try {
            const f = await openOn(control, g, request, key, port);
            port ??= f.listenPort;
            opened.push(record(g, f.listenPort));
          } catch (e: unknown) {
            if (!(e instanceof GatewayUnavailableError)) throw e;
            last = e;
          }
        }
        if (port === undefined) throw last;
        await deps.forwards.record(opened, replacing);
        return {
          via: 'gateway',
          host: cluster.loadBalancerAddress ?? members[0]!.publicAddress,
          port,
          gateway: cluster.name,
        };
      }

      let order = members;
      if (cluster?.mode === 'login') {
        // Sticky sessions bring the client back to the gateway that forwarded its login.
        const login = members.find(
          (g) => g.name.toLowerCase() === request.loginGateway?.toLowerCase(),
        );
        if (!login) {
          throw new ServiceUnavailableError(
            'login_gateway_unknown',
            `gateway cluster "${cluster.name}" uses the login gateway, but this login did not come through one of its gateways`,
          );
        }
        order = [login];
      } else if (cluster?.mode === 'fewest') {
        const loads = await Promise.all(members.map((g) => gatewayLoad(control, g)));
        order = members
          .map((g, i) => ({ g, load: loads[i]! }))
          .sort((a, b) => a.load - b.load)
          .map((x) => x.g);
      }
      let last: unknown;
      for (const g of order) {
        try {
          const f = await openOn(control, g, request, key);
          await deps.forwards.record([record(g, f.listenPort)], replacing);
          return { via: 'gateway', host: g.publicAddress, port: f.listenPort, gateway: g.name };
        } catch (e: unknown) {
          if (!(e instanceof GatewayUnavailableError)) throw e;
          last = e;
        }
      }
      throw last;
    },

    openBrowser(request: PathRequest) {
      return chooseBrowserPath(
        { snapshot: deps.snapshot, control: deps.control, live: liveRegistrations },
        request.protocol.gateway,
        request.loginGateway,
      );
    },

    async closeForUser(user: string, desktopId?: number): Promise<void> {
      const [forwards, browsers] = await Promise.all([
        deps.forwards.closeForUser(user, desktopId),
        deps.html5?.closeForUser(user, desktopId, deps.now()) ?? [],
      ]);
      // A browser connection is closed at its gateway like a forward, by its key.
      const closed: Pick<ForwardRecord, 'gateway' | 'key'>[] = [...forwards, ...browsers];
      if (closed.length === 0 || !deps.control) return;
      const snapshot = await deps.snapshot.get();
      let registered: Promise<RegisteredGateway[]> | undefined;
      // A fixed gateway by name, else a live registered one; a gateway gone took its forwards along.
      const gatewayOf = async (f: Pick<ForwardRecord, 'gateway'>) => {
        const configured = fixedGateway(snapshot.config, f.gateway, snapshot.gatewayIds);
        if (configured) return configured;
        registered ??= liveRegistrations();
        const live = byName(await registered, f.gateway);
        return live ? routableRegistered(live) : undefined;
      };
      await Promise.all(
        closed.map(async (f) => {
          try {
            const g = await gatewayOf(f);
            if (g) await deps.control!.close(endpoint(g), f.key);
          } catch (e: unknown) {
            deps.warn('gateway did not close a forward; it will expire on its own', {
              gateway: f.gateway,
              key: f.key,
              error: (e as Error).message,
            });
          }
        }),
      );
    },
  };
}
