/**
 * The job bodies that give desktops back to their pools on the agents' word (the guide's
 * release rules): `agent_timeout` treats the session of a desktop whose agent has been silent
 * for {@link MISSED_AGENT_HEARTBEATS} heartbeats as disconnected, and `delayed_release` gives
 * back the desktops whose disconnection lasted past their policy's delay. Both close the
 * released users' gateway forwards. Idempotent: each pass releases what is due then.
 */
import type { AgentStore } from '../agents/ports.ts';
import type { Clock } from '../clock.ts';
import type { DesktopStore } from '../desktops/ports.ts';
import type { GatewayRouter } from '../gateways/ports.ts';
import type { SiteSnapshotSource } from '../site-config/ports.ts';
import { MISSED_AGENT_HEARTBEATS } from './bodies.ts';
import type { JobBodies } from './runner.ts';

export interface ReleaseJobDeps {
  readonly agents: Pick<AgentStore, 'silentSince' | 'applyEvent'>;
  readonly desktops: Pick<DesktopStore, 'releaseExpiredDisconnects'>;
  readonly gateways: Pick<GatewayRouter, 'closeForUser'>;
  readonly snapshot: SiteSnapshotSource;
  readonly clock: Clock;
}

/** Gives back the desktops whose disconnect delay has passed, closing their forwards. */
export async function releaseDueDisconnects(deps: ReleaseJobDeps): Promise<number> {
  const released = await deps.desktops.releaseExpiredDisconnects(deps.clock.now());
  for (const d of released) {
    if (d.heldBy) await deps.gateways.closeForUser(d.heldBy, d.id);
  }
  return released.length;
}

/**
 * Marks the sessions whose agent missed {@link MISSED_AGENT_HEARTBEATS} heartbeats
 * (`settings.heartbeatSeconds` each) disconnected, on one desktop or all, then releases what
 * is due. Returns how many sessions it disconnected.
 */
export async function timeOutSilentAgents(
  deps: ReleaseJobDeps,
  desktopId?: number,
): Promise<number> {
  const { config } = await deps.snapshot.get();
  const now = deps.clock.now();
  const cutoff = now - MISSED_AGENT_HEARTBEATS * config.settings.heartbeatSeconds * 1000;
  const silent = (await deps.agents.silentSince(cutoff)).filter(
    (id) => desktopId === undefined || id === desktopId,
  );
  for (const id of silent) {
    const result = await deps.agents.applyEvent(id, 'disconnect', null, now);
    // A rule of on_disconnect without delay releases at once: close the forwards too.
    if (result.released) await deps.gateways.closeForUser(result.released, id);
  }
  await releaseDueDisconnects(deps);
  return silent.length;
}

/** The bodies of `agent_timeout` and `delayed_release`. */
export function releaseJobBodies(
  deps: ReleaseJobDeps,
): Pick<JobBodies, 'agent_timeout' | 'delayed_release'> {
  return {
    async agent_timeout(job, context) {
      const disconnected = await timeOutSilentAgents(deps, job.desktopId);
      if (disconnected > 0)
        context.logger.info('silent agents: sessions disconnected', { disconnected });
    },
    async delayed_release(_job, context) {
      // Every desktop that is due, not only the one named: a late job catches up the others.
      const released = await releaseDueDisconnects(deps);
      if (released > 0) context.logger.info('desktops released after their delay', { released });
    },
  };
}
