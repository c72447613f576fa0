/**
 * The gateway program's configuration: every environment variable it reads, validated once.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `GATEWAY_NAME` | host name | the gateway's name, as the site configuration's `gateways[].name` |
 * | `GATEWAY_SECRET` | (required, ≥ 16 chars) | shared with the broker: signs control calls and login tags |
 * | `GATEWAY_PORT_RANGE` | `20001-23000` | ports for desktop forwards, `FROM-TO` |
 * | `GATEWAY_BIND` | `0.0.0.0` | address the forwards listen on |
 * | `GATEWAY_HTTP_PORT` | `8443` | public HTTP face: `/app/system/ping` and login forwarding (plain HTTP; TLS ends at the load balancer) |
 * | `GATEWAY_HTTP_BIND` | `0.0.0.0` | address of the public HTTP face |
 * | `GATEWAY_CONTROL_PORT` | `9443` | control API for the broker (signed requests) |
 * | `GATEWAY_CONTROL_BIND` | `127.0.0.1` | address of the control API; the container image sets `0.0.0.0` |
 * | `GATEWAY_TRUSTED_PROXIES` | (none) | comma-separated CIDRs of load balancers whose `X-Forwarded-For` names the client |
 * | `BROKER_URL` | (none: forwarding OFF) | broker base URL: login forwarding target, and the forward list fetched on start |
 * | `GATEWAY_IDLE_SECONDS` | `3600` | a forwarded connection without traffic this long is closed |
 * | `GATEWAY_CONNECT_TIMEOUT_MS` | `10000` | how long a forward waits for the desktop to accept |
 * | `GATEWAY_WORKERS` | `1` | threads forwarding, each holding a share of the port range; 1 forwards in the main thread. More pays off only when the gateway has cores to itself (see docs/bench-gateway.md) |
 * | `GATEWAY_REGISTER` | `on` (with BROKER_URL) | `off`: do not register with the broker (the gateway is then only known through `gateways[]`) |
 * | `GATEWAY_TAGS` | `default` | comma-separated tags: the gateway is a member of every gateway cluster with one of them |
 * | `GATEWAY_RENEW_SECONDS` | `20` | how often the registration is renewed; the broker drops the gateway after 3 missed renewals |
 * | `GATEWAY_PUBLIC_ADDRESS` | the bind address, else what the broker sees | the address clients connect to |
 * | `GATEWAY_ADDRESS` | the control bind address, else the task's (ECS metadata) or the machine's private IPv4 | the address in the control URL the broker calls |
 * | `LOG_LEVEL` | `INFO` | `DEBUG`, `INFO`, `WARN`, `ERROR` or `SILENT` |
 */
import os from 'node:os';
import {
  DEFAULT_GATEWAY_TAG,
  gatewayTagSchema,
  RENEW_SECONDS,
} from '../core/gateways/registration-contract.ts';
import { isValidIpRange } from '../core/ip-range.ts';
import * as z from '../core/zod.ts';

/** Thrown when an environment variable is missing or malformed; the message names it. */
export class GatewayConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayConfigError';
  }
}

const intIn = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));

/** `FROM-TO` port ranges (`20001-23000`), at least `lowest` (1 for the gateway itself). */
export const portRangeSchema = (lowest = 1) =>
  z
    .pipe(
      z
        .string()
        .check(
          z.regex(/^\s*\d{1,5}\s*-\s*\d{1,5}\s*$/, 'must be FROM-TO, for example 20001-23000'),
        ),
      z.transform((value) => {
        const [from, to] = value.split('-').map((s) => Number(s.trim()));
        return { from: from!, to: to! };
      }),
    )
    .check(
      z.refine((r) => r.from >= lowest && r.to <= 65535 && r.from <= r.to, {
        message: `must be FROM-TO with ${lowest} ≤ FROM ≤ TO ≤ 65535`,
      }),
    );

const portRange = portRangeSchema();
/** `a, b,c` → `['a', 'b', 'c']`, each item passing `valid`. */
const commaList = (valid: (item: string) => boolean, message: string) =>
  z
    .pipe(
      z.string(),
      z.transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    )
    .check(z.refine((list) => list.every(valid), { message }));
const host = z
  .string()
  .check(z.maxLength(253), z.regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or IP address'));

const schema = z.object({
  GATEWAY_NAME: z._default(z.string().check(z.minLength(1), z.maxLength(200)), os.hostname()),
  GATEWAY_SECRET: z
    .string({ message: 'is required (the secret shared with the broker)' })
    .check(z.minLength(16, 'must be at least 16 characters')),
  GATEWAY_PORT_RANGE: z._default(portRange, { from: 20001, to: 23000 }),
  GATEWAY_BIND: z._default(z.string().check(z.minLength(1)), '0.0.0.0'),
  GATEWAY_HTTP_PORT: z._default(intIn(0, 65535), 8443),
  GATEWAY_HTTP_BIND: z._default(z.string().check(z.minLength(1)), '0.0.0.0'),
  GATEWAY_CONTROL_PORT: z._default(intIn(0, 65535), 9443),
  GATEWAY_CONTROL_BIND: z._default(z.string().check(z.minLength(1)), '127.0.0.1'),
  GATEWAY_TRUSTED_PROXIES: z._default(
    commaList(isValidIpRange, 'must be a comma-separated list of CIDRs or addresses'),
    [],
  ),
  BROKER_URL: z.optional(
    z.string().check(
      z.regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'),
      z.refine((v) => URL.canParse(v), 'must be a URL'),
    ),
  ),
  GATEWAY_IDLE_SECONDS: z._default(intIn(1, 30 * 86_400), 3600),
  GATEWAY_CONNECT_TIMEOUT_MS: z._default(intIn(100, 600_000), 10_000),
  GATEWAY_WORKERS: z._default(intIn(1, 64), 1),
  GATEWAY_REGISTER: z._default(z.enum(['on', 'off']), 'on'),
  GATEWAY_TAGS: z._default(
    commaList(
      (t) => gatewayTagSchema.safeParse(t).success,
      'must be a comma-separated list of tags (letters, digits, dots, dashes)',
    ),
    [DEFAULT_GATEWAY_TAG],
  ),
  GATEWAY_RENEW_SECONDS: z._default(
    intIn(RENEW_SECONDS.min, RENEW_SECONDS.max),
    RENEW_SECONDS.default,
  ),
  GATEWAY_PUBLIC_ADDRESS: z.optional(host),
  GATEWAY_ADDRESS: z.optional(host),
  /** Set by ECS in every task: where the task metadata (its private address) is read. */
  ECS_CONTAINER_METADATA_URI_V4: z.optional(z.url()),
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']), 'INFO'),
});

/** The gateway's configuration. */
export interface GatewayConfig {
  readonly name: string;
  readonly secret: string;
  readonly portRange: { readonly from: number; readonly to: number };
  readonly bind: string;
  readonly httpPort: number;
  readonly httpBind: string;
  readonly controlPort: number;
  readonly controlBind: string;
  readonly trustedProxies: readonly string[];
  /** Broker base URL without a trailing slash; undefined turns login forwarding off. */
  readonly brokerUrl?: string;
  readonly idleSeconds: number;
  readonly connectTimeoutMs: number;
  /** Threads forwarding; 1 runs the forwarder in the main thread. */
  readonly workers: number;
  /** Registration with the broker (with BROKER_URL, unless GATEWAY_REGISTER=off). */
  readonly registration: {
    readonly on: boolean;
    readonly tags: readonly string[];
    readonly renewSeconds: number;
    /** Where clients connect; undefined: the bind address, else what the broker sees. */
    readonly publicAddress?: string;
    /** The address in the control URL; undefined: found at start. */
    readonly address?: string;
    readonly ecsMetadataUri?: string;
  };
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

/**
 * Reads and validates the gateway's configuration (empty values count as unset).
 * @throws {GatewayConfigError} naming the first variable that is wrong, and why.
 */
export function loadGatewayConfig(
  env: Record<string, string | undefined> = process.env,
): GatewayConfig {
  const cleaned = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GatewayConfigError(`environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    name: e.GATEWAY_NAME,
    secret: e.GATEWAY_SECRET,
    portRange: e.GATEWAY_PORT_RANGE,
    bind: e.GATEWAY_BIND,
    httpPort: e.GATEWAY_HTTP_PORT,
    httpBind: e.GATEWAY_HTTP_BIND,
    controlPort: e.GATEWAY_CONTROL_PORT,
    controlBind: e.GATEWAY_CONTROL_BIND,
    trustedProxies: e.GATEWAY_TRUSTED_PROXIES,
    brokerUrl: e.BROKER_URL?.replace(/\/+$/, ''),
    idleSeconds: e.GATEWAY_IDLE_SECONDS,
    connectTimeoutMs: e.GATEWAY_CONNECT_TIMEOUT_MS,
    workers: e.GATEWAY_WORKERS,
    registration: {
      on: e.GATEWAY_REGISTER === 'on' && e.BROKER_URL !== undefined,
      tags: e.GATEWAY_TAGS,
      renewSeconds: e.GATEWAY_RENEW_SECONDS,
      publicAddress: e.GATEWAY_PUBLIC_ADDRESS,
      address: e.GATEWAY_ADDRESS,
      ecsMetadataUri: e.ECS_CONTAINER_METADATA_URI_V4,
    },
    logLevel: e.LOG_LEVEL,
  };
}
