/**
 * The guide's health queries, `GET /index.pl?action=is_alive | cb_status | cb_version`,
 * answered in text/plain for load balancers and autoscaling.
 */
import { type BrokerBase, type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDirectory, composeHealth, type HealthParts } from '../compose/login.ts';
import type { Config } from '../config.ts';
import { cbStatus, type HealthVerdict, isAlive, OKAY } from '../core/health.ts';
import { healthHeadRoute, healthRoute } from './api/health.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { text } from './http/response.ts';
import { lambdaHandler } from './lambda.ts';

/** What the health queries use of the broker. */
export type HealthBroker = BrokerBase & HealthParts;

/** Composes what the health queries use: the base, the directory (to probe) and the probes. */
export async function composeHealthBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<HealthBroker> {
  const base = await composeBase(config, options);
  return { ...base, ...composeHealth(base, composeDirectory(base)) };
}

/** How the broker serves while the site database is down. */
async function leasedModeLine(broker: HealthBroker): Promise<string> {
  const enabled = await broker.snapshot.get().then(
    (s) => s.config.settings.leasing.enabled,
    () => undefined,
  );
  if (enabled === false) return 'unavailable (connection leasing is turned off)';
  return 'leased (users sign in and launch their leased desktops)';
}

/** The routes this handler serves, each the implementation of its contract. */
export function healthEndpoints(broker: HealthBroker): Route[] {
  const limits = broker.config.health;
  // The answers name the part and the kind of failure only; the whole story goes to the log.
  const logged = (action: string, verdict: HealthVerdict) => {
    if (!verdict.ok) broker.logger.warn(`${action}: not okay`, { details: verdict.details });
    return verdict;
  };
  const answer = async ({
    query,
  }: {
    query: { action: 'is_alive' | 'cb_status' | 'cb_version' };
  }) => {
    switch (query.action) {
      case 'is_alive': {
        const verdict = logged(query.action, await isAlive(broker.health, limits));
        return verdict.ok
          ? text(200, OKAY)
          : text(503, `ERROR_MESSAGE: ${verdict.reasons.join('; ')}`);
      }
      case 'cb_status': {
        const verdict = logged(query.action, await cbStatus(broker.health, limits));
        const lines = [verdict.ok ? OKAY : `ERROR_MESSAGE: ${verdict.reasons.join('; ')}`];
        // While the database is down the broker serves from connection leases: say so.
        if (!verdict.ok) lines.push(`mode: ${await leasedModeLine(broker)}`);
        // With a failover database configured, a line says which one is active (by role:
        // its address is for the cluster view, behind an administrator's sign-in).
        const active = broker.site.failover?.active();
        if (active) lines.push(`active database: ${active.which}`);
        return text(200, lines.join('\n'));
      }
      case 'cb_version':
        return text(200, broker.version);
    }
  };
  return [endpoint(healthRoute, answer), endpoint(healthHeadRoute, answer)];
}

export function buildHealthHandler(broker: HealthBroker): AlbHandler {
  return httpHandler(broker.logger, healthEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(composeHealthBroker, buildHealthHandler);
