/**
 * The whole broker: every area of the composition (./compose/), as the local runtime, the
 * admin and migration Lambdas, and the CLI use it. The other Lambda entries compose only the
 * areas their endpoints use, from the same functions (each handler's `compose…Broker`); only
 * the configuration differs between Lambda and the local runtime.
 */

import { type AdminParts, composeAdmin } from './compose/admin.ts';
import { type BrokerBase, type ComposeOptions, composeBase } from './compose/base.ts';
import { composeDesktops, type DesktopParts } from './compose/desktops.ts';
import { composeJobParts, type JobParts } from './compose/jobs.ts';
import {
  composeDirectory,
  composeHealth,
  composeLogin,
  composeSessions,
  type DirectoryParts,
  type HealthParts,
  type LoginParts,
  type SessionParts,
} from './compose/login.ts';
import type { Config } from './config.ts';

export { type BrokerBase, type ComposeOptions, systemClock, VERSION } from './compose/base.ts';

export interface Broker
  extends BrokerBase,
    SessionParts,
    DirectoryParts,
    LoginParts,
    HealthParts,
    DesktopParts,
    JobParts,
    AdminParts {}

/** Builds every adapter from the configuration. Nothing connects until first used. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<Broker> {
  const base = await composeBase(config, options);
  const directory = composeDirectory(base);
  const desktops = composeDesktops(base);
  const jobs = composeJobParts(base, desktops);
  return {
    ...base,
    ...composeSessions(base),
    ...directory,
    ...composeLogin(base),
    ...composeHealth(base, directory),
    ...desktops,
    ...jobs,
    ...composeAdmin(base),
    async close() {
      jobs.jobs.close();
      await directory.directory.close();
      await base.close();
    },
  };
}
