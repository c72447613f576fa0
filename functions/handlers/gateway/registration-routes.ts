/**
 * Gateway registration (core/gateways/registration.ts), signed by the gateway:
 * `POST /api/v1/gateway/registrations` registers or renews, `DELETE .../{name}` deregisters.
 * Registrations live in the state table: they work while the site database is down.
 */
import { deregisterGateway, registerGateway } from '../../core/gateways/registration.ts';
import { deregisterGatewayRoute, registerGatewayRoute } from '../api/gateway.ts';
import type { DesktopBroker } from '../http/deps.ts';
import { endpoint } from '../http/endpoint.ts';
import type { Route } from '../http/handler.ts';
import { clientIp } from '../http/request.ts';
import type { SignedRequests } from './signed.ts';

export function registrationRoutes(broker: DesktopBroker, signed: SignedRequests): Route[] {
  const deps = { registry: broker.gatewayRegistry, metrics: broker.metrics, clock: broker.clock };
  return [
    endpoint(registerGatewayRoute, async ({ event, body }) => {
      await signed.verify(event);
      // The address the load balancer saw the call come from: the public address by default.
      const registration = await registerGateway(
        deps,
        body,
        clientIp(event, broker.config.cdnOriginSecret),
      );
      return {
        name: registration.name,
        publicAddress: registration.publicAddress,
        expiresAt: registration.expiresAt,
        renewSeconds: registration.renewSeconds,
      };
    }),
    endpoint(deregisterGatewayRoute, async ({ event, params }) => {
      await signed.verify(event);
      const deregistered = await deregisterGateway(deps, params.name);
      broker.logger.info('gateway deregistered', { gateway: params.name, deregistered });
      return { deregistered };
    }),
  ];
}
