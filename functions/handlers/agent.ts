/**
 * `POST /api/v1/agent/events` with `Authorization: Agent <key>`: what a desktop agent reports.
 */
import type { ALBEvent } from 'aws-lambda';
import * as z from 'zod';
import type { Broker } from '../compose.ts';
import { handleAgentEvent } from '../core/agents/events.ts';
import { agentDeps } from './http/deps.ts';
import { type AlbHandler, httpHandler } from './http/handler.ts';
import { header, jsonBody } from './http/request.ts';
import { json } from './http/response.ts';
import { lambdaHandler } from './lambda.ts';

const eventBody = z.strictObject({
  event: z.enum(['login', 'logout', 'disconnect', 'reconnect', 'heartbeat']),
  user: z.string().trim().min(1).max(256).optional(),
});

export function buildAgentHandler(broker: Broker): AlbHandler {
  const deps = agentDeps(broker);
  return httpHandler(broker.logger, [
    {
      method: 'POST',
      path: '/api/v1/agent/events',
      handler: async (event: ALBEvent) => {
        const key = header(event, 'authorization')?.match(/^Agent\s+(\S+)$/i)?.[1];
        const body = jsonBody(event, eventBody);
        const result = await handleAgentEvent(deps, key, body);
        return json(200, {
          desktop: result.desktop.name,
          sessionState: result.sessionState,
          released: result.released !== null,
        });
      },
    },
  ]);
}

export const handler = lambdaHandler(buildAgentHandler);
