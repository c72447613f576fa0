/**
 * `POST /api/v1/agent/events` with `Authorization: Agent <key>`: what a desktop agent reports.
 */
import type { Broker } from '../compose.ts';
import { handleAgentEvent } from '../core/agents/events.ts';
import { agentEventRoute } from './api/agent.ts';
import { agentDeps } from './http/deps.ts';
import { endpoint } from './http/endpoint.ts';
import { type AlbHandler, httpHandler, type Route } from './http/handler.ts';
import { header } from './http/request.ts';
import { lambdaHandler } from './lambda.ts';

/** The routes this handler serves, each the implementation of its contract. */
export function agentEndpoints(broker: Broker): Route[] {
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

export function buildAgentHandler(broker: Broker): AlbHandler {
  return httpHandler(broker.logger, agentEndpoints(broker), broker.config);
}

export const handler = lambdaHandler(buildAgentHandler);
