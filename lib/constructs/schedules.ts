/**
 * EventBridge Scheduler schedules that put the periodic jobs on the job queue: the
 * cluster-wide ones of PERIODIC_JOBS and this broker's heartbeat. Each message is a
 * JobMessage of the shared zod union (functions/core/jobs/payload.ts), validated here at
 * synth, whose idempotency key names the job and the schedule's own firing time, so a
 * repeated delivery of one firing runs once.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { SqsSendMessage } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type JobMessage,
  type JobPayload,
  jobMessageSchema,
} from '../../functions/core/jobs/payload.ts';
import { PERIODIC_JOBS, type PeriodicJob } from '../../functions/core/jobs/schedule.ts';

/** EventBridge Scheduler's shortest rate. */
export const MIN_SCHEDULE_SECONDS = 60;

export interface SchedulesProps {
  readonly queue: sqs.IQueue;
  /** The broker whose heartbeat is scheduled. */
  readonly siteId: number;
  /**
   * The cluster-wide periodic jobs.
   * @default PERIODIC_JOBS (functions/core/jobs/schedule.ts)
   */
  readonly jobs?: readonly PeriodicJob[];
  /**
   * Heartbeat period, a whole number of minutes (the scheduler's shortest rate is one). The
   * functions learn it through {@link Schedules.bindHeartbeat}, so the cluster status follows
   * the schedule whatever the site's `settings.heartbeatSeconds` says.
   * @default 60
   */
  readonly heartbeatSeconds?: number;
}

/** One schedule per periodic job, plus the heartbeat. */
export class Schedules extends Construct {
  /** The schedules, by job kind. */
  public readonly schedules: Readonly<Record<string, Schedule>>;
  /** How often the heartbeat schedule fires, in seconds. */
  public readonly heartbeatSeconds: number;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.heartbeatSeconds = props.heartbeatSeconds ?? 60;
    const all: PeriodicJob[] = [
      {
        job: { kind: 'heartbeat', siteId: props.siteId },
        everySeconds: this.heartbeatSeconds,
      },
      ...(props.jobs ?? PERIODIC_JOBS),
    ];
    const schedules: Record<string, Schedule> = {};
    for (const { job, everySeconds } of all) {
      if (schedules[job.kind]) throw new Error(`Schedules: "${job.kind}" is scheduled twice`);
      schedules[job.kind] = new Schedule(this, pascal(job.kind), {
        description: `deskbroker: ${job.kind} every ${everySeconds} s`,
        schedule: ScheduleExpression.rate(rate(job.kind, everySeconds)),
        target: new SqsSendMessage(props.queue, {
          input: ScheduleTargetInput.fromObject(scheduledMessage(job, everySeconds)),
          retryAttempts: 3,
          maxEventAge: Duration.seconds(Math.max(60, everySeconds)),
        }),
      });
    }
    this.schedules = schedules;
  }

  /**
   * Sets HEARTBEAT_SECONDS on `fn` to the heartbeat schedule's period: the one source of the
   * period that the cluster status judges brokers by. Grants nothing.
   */
  public bindHeartbeat(fn: lambda.Function): void {
    fn.addEnvironment('HEARTBEAT_SECONDS', String(this.heartbeatSeconds));
  }
}

/**
 * The message a schedule sends, validated against the job union.
 * @throws {Error} naming the job when it is not a valid JobMessage.
 */
export function scheduledMessage(job: JobPayload, everySeconds: number): JobMessage {
  const message = {
    idempotencyKey: `${job.kind}${job.kind === 'heartbeat' ? `:site-${job.siteId}` : ''}:${everySeconds}:${ContextAttribute.scheduledTime}`,
    job,
  };
  const parsed = jobMessageSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(
      `Schedules: the ${String((job as { kind?: unknown }).kind)} job is not a valid job message: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  // The message as written: it carries the scheduler's placeholder for the firing time.
  return message as JobMessage;
}

function rate(kind: string, everySeconds: number): Duration {
  if (!Number.isInteger(everySeconds) || everySeconds < MIN_SCHEDULE_SECONDS || everySeconds % 60) {
    throw new Error(
      `Schedules: "${kind}" runs every ${everySeconds} s; EventBridge Scheduler needs whole minutes (≥ 60 s)`,
    );
  }
  return Duration.minutes(everySeconds / 60);
}

const pascal = (kind: string) =>
  kind
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
