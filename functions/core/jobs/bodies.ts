/**
 * The built-in job bodies: heartbeat, purge_records, refresh_pool and check_gateway. The
 * bodies of agent_timeout and delayed_release (./release-bodies.ts) and lease_upkeep
 * (../leasing/upkeep.ts) need the desktop, agent and leasing ports: the composition passes
 * them in; without them they log "not configured" and finish.
 */

import type { Clock } from '../clock.ts';
import { portRangeDisagreement } from '../gateways/port-range.ts';
import type { GatewayControl } from '../gateways/ports.ts';
import { withTimeout } from '../health.ts';
import type { BrokerIdentity, ClusterStore, MaintenanceStore } from './ports.ts';
import { PURGE_BUDGET_MS, purgeCutoffs } from './purge.ts';
import { type JobBodies, notConfigured } from './runner.ts';

/** Missed agent heartbeats after which a desktop is unavailable. */
export const MISSED_AGENT_HEARTBEATS = 3;

export interface BodyDeps {
  readonly self: BrokerIdentity;
  readonly cluster: ClusterStore;
  readonly maintenance: MaintenanceStore;
  readonly clock: Clock;
  /** Absent without a gateway secret: check_gateway then records nothing. */
  readonly gateways?: GatewayControl;
  /** Longest a gateway ping may take (default 3000 ms). */
  readonly gatewayTimeoutMs?: number;
}

/**
 * Every body: the built-in ones, `not configured` for the others, and `extra` over both
 * (the composition's bodies for agent_timeout, delayed_release, lease_upkeep; tests).
 */
export function jobBodies(deps: BodyDeps, extra: Partial<JobBodies> = {}): JobBodies {
  return {
    async heartbeat(job, context) {
      // A heartbeat says "this broker is alive": only the broker itself can say so.
      if (job.siteId !== deps.self.siteId) {
        context.logger.info('heartbeat of another broker; nothing done', { of: job.siteId });
        return;
      }
      await deps.cluster.beat(deps.self);
    },
    async purge_records(_job, context) {
      const settings = await deps.maintenance.settings();
      const result = await deps.maintenance.purge(
        purgeCutoffs(deps.clock.now(), settings.logRetentionDays),
        { budgetMs: PURGE_BUDGET_MS },
      );
      // An unfinished purge goes on at the next run (hourly): it is idempotent.
      context.logger.info(result.complete ? 'records purged' : 'records purged, more to do', {
        ...result,
      });
    },
    async refresh_pool(job, context) {
      const settings = await deps.maintenance.settings();
      const staleSeconds = job.staleSeconds ?? MISSED_AGENT_HEARTBEATS * settings.heartbeatSeconds;
      const changed = await deps.maintenance.refreshDesktops(
        deps.clock.now() - staleSeconds * 1000,
        job.pool,
      );
      if (changed.nowAvailable + changed.nowUnavailable > 0) {
        context.logger.info('desktop availability changed', { pool: job.pool, ...changed });
      }
    },
    async check_gateway(job, context) {
      const control = deps.gateways;
      const gateways = await deps.maintenance.gateways(job.gateway);
      if (gateways.length === 0) return;
      if (!control) {
        context.logger.warn('gateways not checked: GATEWAY_SECRET is not set');
        return;
      }
      const timeoutMs = deps.gatewayTimeoutMs ?? 3000;
      await Promise.all(
        gateways.map(async (gateway) => {
          const info = await withTimeout(
            control.info(gateway),
            timeoutMs,
            `gateway ${gateway.name}`,
          ).catch(() => undefined);
          // The range the gateway forwards on against the one the site configuration gives.
          const disagreement =
            info && portRangeDisagreement(gateway.name, gateway.portRange, info.portRange);
          if (disagreement) context.logger.warn(disagreement, { gateway: gateway.name });
          await deps.maintenance.recordGatewayCheck(
            gateway.name,
            info
              ? { up: true, reported: { portRange: info.portRange, version: info.version } }
              : { up: false },
            deps.clock.now(),
          );
        }),
      );
    },
    agent_timeout: notConfigured('agent_timeout'),
    delayed_release: notConfigured('delayed_release'),
    lease_upkeep: notConfigured('lease_upkeep'),
    ...extra,
  };
}
