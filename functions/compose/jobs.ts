/**
 * The job side of the composition: the queue, ledger, cluster records and every job body
 * (leasing upkeep and releases included).
 */
import { type BrokerJobs, composeJobs } from '../adapters/jobs/compose-jobs.ts';
import { leasingJobBodies } from '../compose-leasing.ts';
import { releaseJobBodies } from '../core/jobs/release-bodies.ts';
import type { BrokerBase } from './base.ts';
import type { DesktopParts } from './desktops.ts';

export interface JobParts {
  /** Job queue, ledger, cluster records and job bodies. */
  readonly jobs: BrokerJobs;
}

export function composeJobParts(base: BrokerBase, desktops: DesktopParts): JobParts {
  const { config, clock, options } = base;
  const { agents, gateways, leasing } = desktops;
  return {
    jobs: composeJobs({
      config,
      db: base.site.db,
      logger: base.logger,
      clock,
      version: base.version,
      gatewayControl: desktops.gatewayControl,
      metrics: base.metrics,
      options: {
        ...options.jobs,
        bodies: {
          ...leasingJobBodies(leasing),
          ...releaseJobBodies({
            agents,
            desktops: desktops.desktops,
            gateways,
            snapshot: base.snapshot,
            clock,
          }),
          ...options.jobs?.bodies,
        },
      },
    }),
  };
}
