/**
 * The administrator's desktop views: the desktops list with each desktop's leases, pool
 * usage, and giving a desktop back to its pool.
 */
import type { Clock } from '../clock.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import { MISSED_AGENT_HEARTBEATS } from '../jobs/bodies.ts';
import type { Lease } from '../leasing/leases.ts';
import type { LeaseStore } from '../leasing/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import type {
  AdminDesktop,
  DesktopFilter,
  DesktopPosition,
  DesktopViews,
  Page,
  PageRequest,
} from './ports.ts';

export interface AdminDesktopDeps {
  readonly views: DesktopViews;
  readonly leases: Pick<LeaseStore, 'forUser'>;
  readonly snapshot: SiteSnapshotSource;
  readonly gateways: Pick<GatewayRouter, 'closeForUser'>;
  readonly clock: Clock;
}

/** The heartbeat period, and the time before which an agent last seen counts as silent. */
async function silence(deps: AdminDesktopDeps) {
  const { config } = await deps.snapshot.get();
  const heartbeatSeconds = config.settings.heartbeatSeconds;
  const silentBefore = deps.clock.now() - MISSED_AGENT_HEARTBEATS * heartbeatSeconds * 1000;
  return { heartbeatSeconds, silentBefore };
}

/**
 * A page of desktops, each with the unexpired leases on it (leases belong to users: those of
 * the page's holders and hard-assigned users are read, one query per user).
 */
export async function listDesktops(
  deps: AdminDesktopDeps,
  filter: DesktopFilter,
  page: PageRequest<DesktopPosition>,
): Promise<
  Page<AdminDesktop & { leases: Lease[] }, DesktopPosition> & { heartbeatSeconds: number }
> {
  const { heartbeatSeconds, silentBefore } = await silence(deps);
  const result = await deps.views.desktops(filter, page, silentBefore);
  const users = new Set<string>();
  for (const d of result.items) {
    if (d.assignedTo) users.add(d.assignedTo.toLowerCase());
    if (d.heldBy) users.add(d.heldBy.toLowerCase());
  }
  const now = deps.clock.now();
  const leases = (
    await Promise.all([...users].map(async (u) => (await deps.leases.forUser(u, now)).leases))
  ).flat();
  return {
    heartbeatSeconds,
    next: result.next,
    items: result.items.map((d) => ({ ...d, leases: leases.filter((l) => l.desktopId === d.id) })),
  };
}

/** A page of pools with their desktops counted by status. */
export async function poolUsage(deps: AdminDesktopDeps, page: PageRequest<string>) {
  const { silentBefore } = await silence(deps);
  return deps.views.pools(page, silentBefore);
}

/**
 * Gives a desktop back to its pool for an administrator: clears its holder (logged as
 * "by administrator <by>") and closes the holder's gateway forwards to it.
 * @throws {NotFoundError} `unknown_desktop`; {@link ConflictError} `desktop_not_held`.
 */
export async function releaseByAdministrator(
  deps: AdminDesktopDeps,
  desktopId: number,
  by: string,
): Promise<{ desktopId: number; name: string; releasedFrom: string }> {
  const released = await deps.views.releaseDesktop(desktopId, by);
  if (!released) throw new NotFoundError('unknown_desktop', `there is no desktop ${desktopId}`);
  if (!released.heldBy) {
    throw new ConflictError(
      'desktop_not_held',
      `desktop "${released.name}" is not handed to anyone, so there is nothing to release`,
    );
  }
  await deps.gateways.closeForUser(released.heldBy, desktopId);
  return { desktopId, name: released.name, releasedFrom: released.heldBy };
}
