/**
 * `POST /api/v1/agent/events` with `Authorization: Agent <key>`: what a desktop agent reports.
 */
import { type ComposeOptions, composeBase } from '../compose/base.ts';
import { composeDesktops } from '../compose/desktops.ts';
import type { Config } from '../config.ts';
import { handleAgentEvent } from '../core/agents/events.ts';
import { agentEventRoute } from './api/agent.ts';
import { agentDeps, type DesktopBroker } from './http/deps.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { header } from './http/request.ts';
import { lambdaHandler } from './lambda.ts';

/** Composes what agent events use: the base and the desktop side. */
export async function composeAgentBroker(
  config: Config,
  options?: ComposeOptions,
): Promise<DesktopBroker> {
  const base = await composeBase(config, options);
  return { ...base, ...composeDesktops(base) };
}

/** The routes this handler serves, each the implementation of its contract. */
export function agentEndpoints(broker: DesktopBroker): Route[] {
  const deps = agentDeps(broker);
  return [
    endpoint(agentEventRoute, async ({ event, body }) => {
      const key = header(event, 'authorization')?.match(/^Agent\s+(\S+)$/i)?.[1];
      const result = await handleAgentEvent(deps, key, body);
      return {
        desktop: result.desktop.name,
        sessionState: result.sessionState,
        released: result.released !== null,
      };
    }),
  ];
}

export function buildAgentHandler(broker: DesktopBroker): AlbHandler {
  return httpHandler(broker.logger, agentEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(composeAgentBroker, buildAgentHandler);
