/**
 * Gateway registration (core/gateways/registration.ts), signed by the gateway:
 * `POST /api/v1/gateway/registrations` registers or renews, `DELETE .../{name}` deregisters.
 * Registrations live in the state table: they work while the site database is down.
 */
import type { ALBEvent } from 'aws-lambda';
import type { Broker } from '../../compose.ts';
import { BadRequestError } from '../../core/errors.ts';
import { deregisterGateway, registerGateway } from '../../core/gateways/registration.ts';
import {
  GATEWAY_REGISTRATIONS_PATH,
  type RegistrationAnswer,
  registrationRequestSchema,
} from '../../core/gateways/registration-contract.ts';
import type { Route } from '../http/handler.ts';
import { clientIp, pathParam, validate } from '../http/request.ts';
import { json } from '../http/response.ts';
import type { signedRequests } from './signed.ts';

export function registrationRoutes(
  broker: Broker,
  signed: ReturnType<typeof signedRequests>,
): Route[] {
  const deps = { registry: broker.gatewayRegistry, metrics: broker.metrics, clock: broker.clock };
  return [
    {
      method: 'POST',
      path: GATEWAY_REGISTRATIONS_PATH,
      handler: async (event: ALBEvent) => {
        const text = signed.verify(event);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw new BadRequestError('invalid_json', 'the request body is not valid JSON');
        }
        const request = validate(registrationRequestSchema, value);
        const registration = await registerGateway(deps, request, clientIp(event));
        const answer: RegistrationAnswer = {
          name: registration.name,
          publicAddress: registration.publicAddress,
          expiresAt: registration.expiresAt,
          renewSeconds: registration.renewSeconds,
        };
        return json(200, answer);
      },
    },
    {
      method: 'DELETE',
      path: `${GATEWAY_REGISTRATIONS_PATH}/{name}`,
      handler: async (event: ALBEvent) => {
        signed.verify(event);
        const name = pathParam(event, 'name');
        const deregistered = await deregisterGateway(deps, name);
        broker.logger.info('gateway deregistered', { gateway: name, deregistered });
        return json(200, { deregistered });
      },
    },
  ];
}
