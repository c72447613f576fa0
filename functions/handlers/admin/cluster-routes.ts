/**
 * `/api/v1/admin/cluster`: the guide's Cluster Management page. GET lists the brokers with
 * their status (Running, Stopped, Unavailable) and says which site database is active;
 * DELETE `/{siteId}` removes a Stopped or Unavailable broker (409 while it is Running), its
 * pending jobs going to the others.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../../compose.ts';
import { describeTarget } from '../../config.ts';
import { listCluster, removeBroker } from '../../core/jobs/cluster.ts';
import type { Route } from '../http/handler.ts';
import { pathParam, validate } from '../http/request.ts';
import { json } from '../http/response.ts';
import { requireAdminSession } from '../http/session.ts';

const siteIdSchema = z.coerce.number().int().positive();

/** Which site database this broker uses, and whether it is the secondary. */
export function activeDatabase(broker: Broker) {
  const failover = broker.site.failover?.active();
  return {
    active: failover?.which ?? 'primary',
    target: describeTarget(failover?.target ?? broker.site.target),
    secondaryConfigured: broker.site.failover !== undefined,
  };
}

export function clusterRoutes(broker: Broker): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/admin/cluster',
      handler: async (event: ALBEvent) => {
        await requireAdminSession(broker, event);
        const cluster = await listCluster(broker.jobs.cluster);
        const iso = (ms: number) => new Date(ms).toISOString();
        return json(200, {
          database: activeDatabase(broker),
          heartbeatSeconds: cluster.heartbeatSeconds,
          // On AWS the EventBridge schedule fixes it (HEARTBEAT_SECONDS); locally the site setting.
          heartbeatSource:
            broker.config.heartbeatSeconds === undefined ? 'site setting' : 'runtime schedule',
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
        });
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/admin/cluster/{siteId}',
      handler: async (event: ALBEvent) => {
        const session = await requireAdminSession(broker, event);
        const siteId = validate(siteIdSchema, pathParam(event, 'siteId'));
        const result = await removeBroker(broker.jobs.cluster, siteId);
        broker.logger.info('broker removed from the cluster', {
          by: session.user,
          siteId,
          ...result,
        });
        return json(200, { removed: siteId, ...result });
      },
    },
  ];
}
