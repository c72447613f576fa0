/**
 * `/api/v1/admin/cluster`: the guide's Cluster Management page. GET lists the brokers with
 * their status (Running, Stopped, Unavailable) and says which site database is active;
 * DELETE `/{siteId}` removes a Stopped or Unavailable broker (409 while it is Running), its
 * pending jobs going to the others.
 */
import type { Broker } from '../../compose.ts';
import { describeTarget } from '../../config.ts';
import { listCluster, removeBroker } from '../../core/jobs/cluster.ts';
import { clusterRoute, removeBrokerRoute } from '../api/admin.ts';
import { sessionEndpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';

/** Which site database this broker uses, and whether it is the secondary. */
export function activeDatabase(broker: Broker) {
  const failover = broker.site.failover?.active();
  return {
    active: failover?.which ?? ('primary' as const),
    target: describeTarget(failover?.target ?? broker.site.target),
    secondaryConfigured: broker.site.failover !== undefined,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function clusterRoutes(broker: Broker): Route[] {
  return [
    sessionEndpoint(broker, clusterRoute, async () => {
      const cluster = await listCluster(broker.jobs.cluster);
      return {
        database: activeDatabase(broker),
        heartbeatSeconds: cluster.heartbeatSeconds,
        // On AWS the EventBridge schedule fixes it (HEARTBEAT_SECONDS); locally the site setting.
        heartbeatSource:
          broker.config.heartbeatSeconds === undefined
            ? ('site setting' as const)
            : ('runtime schedule' as const),
        brokers: cluster.members.map((m) => ({
          siteId: m.siteId,
          name: m.name,
          address: m.address,
          status: m.state,
          version: m.version,
          uuid: m.uuid,
          bootedAt: iso(m.bootedAt),
          heartbeatAt: iso(m.heartbeatAt),
          heartbeatAgeSeconds: m.heartbeatAgeSeconds,
          self: m.siteId === broker.config.siteId,
        })),
      };
    }),
    sessionEndpoint(broker, removeBrokerRoute, async ({ session, params }) => {
      const { siteId } = params;
      const result = await removeBroker(broker.jobs.cluster, siteId);
      broker.logger.info('broker removed from the cluster', {
        by: session.user,
        siteId,
        ...result,
      });
      return { removed: siteId, ...result };
    }),
  ];
}
