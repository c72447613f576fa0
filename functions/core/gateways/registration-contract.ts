/**
 * The registration call between a gateway and the broker, one zod module that both sides
 * import (the gateway program sends and reads it, the broker's gateway API validates it).
 *
 * - `POST {BROKER_URL}/api/v1/gateway/registrations` body {@link RegistrationRequest}, signed
 *   like every gateway call (core/gateways/signature.ts) → 200 {@link RegistrationAnswer}.
 *   The same call registers and renews (every `renewSeconds`).
 * - `DELETE {BROKER_URL}/api/v1/gateway/registrations/{name}`, signed → 200
 *   `{ deregistered: boolean }` (a clean stop).
 */
import * as z from '../zod.ts';

/** Where gateways register. */
export const GATEWAY_REGISTRATIONS_PATH = '/api/v1/gateway/registrations';

/** The path that deregisters gateway `name`. */
export const deregistrationPath = (name: string) =>
  `${GATEWAY_REGISTRATIONS_PATH}/${encodeURIComponent(name)}`;

/** The tag a gateway registers with when GATEWAY_TAGS is not set. */
export const DEFAULT_GATEWAY_TAG = 'default';

/** Renewal periods the broker accepts, in seconds. */
export const RENEW_SECONDS = { min: 1, max: 300, default: 20 } as const;

const count = z.int().check(z.nonnegative());
const host = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(253),
    z.regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or IP address'),
  );
const port = z.int().check(z.minimum(1), z.maximum(65535));

/** A gateway or tag name: what site configurations and metrics labels can hold. */
export const gatewayNameSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'must be letters, digits, dots, dashes and underscores',
    ),
  );

export const gatewayTagSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(64),
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'must be letters, digits, dots, dashes and underscores',
    ),
  );

/** What a gateway says about itself on each registration and renewal. */
export const registrationRequestSchema = z.strictObject({
  name: gatewayNameSchema,
  /** Its private address (informational; the broker calls `controlUrl`). */
  address: z.optional(host),
  /** Where clients connect; without it, the address the broker's load balancer saw the call come from. */
  publicAddress: z.optional(host),
  /** Where the broker reaches its control API. */
  controlUrl: z
    .url()
    .check(
      z.regex(/^https?:\/\/[^/]+\/?$/, 'must be an http(s) origin such as http://10.0.1.5:9443'),
    ),
  portRange: z
    .strictObject({ from: port, to: port })
    .check(z.refine((r) => r.from <= r.to, 'from must not be above to')),
  version: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The gateway clusters it joins: every cluster with one of these tags. */
  tags: z.array(gatewayTagSchema).check(z.maxLength(16)),
  /** How often it renews; the broker drops it after three missed renewals. */
  renewSeconds: z.int().check(z.minimum(RENEW_SECONDS.min), z.maximum(RENEW_SECONDS.max)),
  /** Forwards it can hold (the ports of its range unless limited). */
  capacity: z.strictObject({ forwards: count }),
  /** Its counters now (cumulative since it started, except the two "now" figures). */
  stats: z.strictObject({
    /** Forwards open now. */
    forwards: count,
    /** Connections open now. */
    connections: count,
    bytesFromClients: count,
    bytesToClients: count,
  }),
});

export type RegistrationRequest = z.output<typeof registrationRequestSchema>;

/** The broker's answer to a registration or renewal. */
export const registrationAnswerSchema = z.object({
  name: z.string(),
  /** The public address the broker hands to clients. */
  publicAddress: z.string(),
  /** Epoch ms after which the broker drops the gateway unless it renews. */
  expiresAt: z.number(),
  renewSeconds: z.int().check(z.positive()),
});

export type RegistrationAnswer = z.output<typeof registrationAnswerSchema>;

/** The answer to a deregistration. */
export const deregistrationAnswerSchema = z.object({ deregistered: z.boolean() });
