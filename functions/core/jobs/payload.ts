/**
 * Job payloads: one zod discriminated union on `kind`, shared by every producer (the local
 * scheduler, the CDK schedules, the release and leasing code) and by the job runner.
 * A message on the queue is a {@link JobMessage}: the payload plus its idempotency key.
 */

import { BadRequestError } from '../errors.ts';
import * as z from '../zod.ts';

const positiveInt = z.int().check(z.positive());
const name = z.string().check(z.minLength(1), z.maxLength(200));

/** The broker `siteId` records that it is alive (one per broker and heartbeat period). */
export const heartbeatJobSchema = z.object({ kind: z.literal('heartbeat'), siteId: positiveInt });

/** Removes old records as the guide's "Removing Deleted Database Records" says. */
export const purgeRecordsJobSchema = z.object({ kind: z.literal('purge_records') });

/** Marks desktops available or not from their agents' heartbeats (one pool, or all). */
export const refreshPoolJobSchema = z.object({
  kind: z.literal('refresh_pool'),
  pool: z.optional(name),
  /** Seconds without an agent heartbeat after which a desktop is unavailable. */
  staleSeconds: z.optional(positiveInt),
});

/** Pings gateways' control APIs and records up or down (one gateway, or all). */
export const checkGatewayJobSchema = z.object({
  kind: z.literal('check_gateway'),
  gateway: z.optional(name),
});

/** Ends sessions whose agent stopped reporting (one desktop, or all). */
export const agentTimeoutJobSchema = z.object({
  kind: z.literal('agent_timeout'),
  desktopId: z.optional(positiveInt),
});

/** Releases a desktop some time after its user logged out or disconnected. */
export const delayedReleaseJobSchema = z.object({
  kind: z.literal('delayed_release'),
  desktopId: positiveInt,
  user: name,
  reason: z.optional(z.enum(['logout', 'disconnect'])),
});

/** Extends the leases of running sessions and removes expired ones (one user, or all). */
export const leaseUpkeepJobSchema = z.object({
  kind: z.literal('lease_upkeep'),
  user: z.optional(name),
});

/** Every job the broker runs. */
export const jobPayloadSchema = z.discriminatedUnion('kind', [
  heartbeatJobSchema,
  purgeRecordsJobSchema,
  refreshPoolJobSchema,
  checkGatewayJobSchema,
  agentTimeoutJobSchema,
  delayedReleaseJobSchema,
  leaseUpkeepJobSchema,
]);

export type JobPayload = z.output<typeof jobPayloadSchema>;
export type JobKind = JobPayload['kind'];
/** The payload of one kind. */
export type JobOf<K extends JobKind> = Extract<JobPayload, { kind: K }>;

/** Every kind, in the union's order. */
export const JOB_KINDS: readonly JobKind[] = jobPayloadSchema.def.options.map(
  (o) => o.shape.kind.def.values[0]!,
);

/** What travels on the queue: the payload and the key that makes a second delivery a no-op. */
export const jobMessageSchema = z.object({
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(250)),
  job: jobPayloadSchema,
  /** Earliest start, epoch milliseconds (delays longer than SQS's 15 minutes). */
  notBefore: z.optional(z.int().check(z.nonnegative())),
});

export type JobMessage = z.output<typeof jobMessageSchema>;

/** A payload or message that is not a job this broker knows. */
export class InvalidJobError extends BadRequestError {
  constructor(message: string) {
    super('invalid_job', message);
    this.name = 'InvalidJobError';
  }
}

function problem(error: z.core.$ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/**
 * Validates a payload. @throws {InvalidJobError} naming the first problem.
 */
export function parseJobPayload(value: unknown): JobPayload {
  const parsed = jobPayloadSchema.safeParse(value);
  if (!parsed.success) throw new InvalidJobError(`not a job: ${problem(parsed.error)}`);
  return parsed.data;
}

/**
 * Reads a queue message body: a {@link JobMessage}, or a bare payload (as an EventBridge
 * schedule sends it), whose key is then `fallbackKey` (the SQS message ID).
 * @throws {InvalidJobError} for anything else.
 */
export function parseJobMessage(body: string, fallbackKey: string): JobMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidJobError('not a job: the message body is not JSON');
  }
  if (value && typeof value === 'object' && 'kind' in value) {
    return { idempotencyKey: fallbackKey, job: parseJobPayload(value) };
  }
  const parsed = jobMessageSchema.safeParse(value);
  if (!parsed.success) throw new InvalidJobError(`not a job message: ${problem(parsed.error)}`);
  return parsed.data;
}
