/**
 * Every metric the broker publishes, in one table: its kind, its name in CloudWatch (EMF,
 * namespace from METRICS_NAMESPACE, dimension `service` plus the labels) and in the
 * Prometheus text format (local `GET /metrics`), its unit and its labels. The Powertools
 * (EMF) adapter, the prom-client adapter, the CDK dashboard and the alarms all read it, so a
 * figure has the same name and labels everywhere. Labels are low-cardinality words, never
 * user names, addresses or secrets (the gateway label is a gateway's name).
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** The `service` dimension Powertools adds to every EMF metric (the dashboard and alarms use it). */
export const METRICS_SERVICE = 'deskbroker';

/** Units as CloudWatch names them. Prometheus gets seconds for Milliseconds (see the adapter). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes';

export interface MetricSpec {
  readonly kind: MetricKind;
  /** The CloudWatch metric name (PascalCase). */
  readonly cloudwatch: string;
  /** The Prometheus metric name (snake_case, `_total` for counters, `_seconds` for durations). */
  readonly prometheus: string;
  readonly unit: MetricUnit;
  /** One sentence, for `# HELP` and the dashboard. */
  readonly help: string;
  /** Label (dimension) names, in order. */
  readonly labels: readonly string[];
}

/** Values of the `result` label of {@link METRICS.logins}. */
export type LoginResult = 'succeeded' | 'failed' | 'throttled' | 'unavailable' | 'error';
/** Values of the `authType` label: the kind of authentication server that vouched for the user. */
export type AuthType = 'builtin' | 'local' | 'ldap' | 'none';
/** Whether a request was served from the site database or from connection leases. */
export type ServedMode = 'normal' | 'leased';

export const METRICS = {
  logins: {
    kind: 'counter',
    cloudwatch: 'Logins',
    prometheus: 'deskbroker_logins_total',
    unit: 'Count',
    help: 'Sign-ins by result (succeeded, failed, throttled, unavailable, error), authentication-server type and mode (normal or leased).',
    labels: ['result', 'authType', 'mode'],
  },
  loginLatency: {
    kind: 'histogram',
    cloudwatch: 'LoginLatency',
    prometheus: 'deskbroker_login_duration_seconds',
    unit: 'Milliseconds',
    help: 'How long a sign-in took, by result (succeeded or failed; failures are padded to LOGIN_FAILURE_FLOOR_MS).',
    labels: ['result'],
  },
  connects: {
    kind: 'counter',
    cloudwatch: 'Connects',
    prometheus: 'deskbroker_connects_total',
    unit: 'Count',
    help: 'Desktop connections handed out, by path (direct, gateway) and mode (normal or leased).',
    labels: ['via', 'mode'],
  },
  releases: {
    kind: 'counter',
    cloudwatch: 'Releases',
    prometheus: 'deskbroker_releases_total',
    unit: 'Count',
    help: 'Desktops given back by their user, by mode (normal or leased).',
    labels: ['mode'],
  },
  leasedRequests: {
    kind: 'counter',
    cloudwatch: 'LeasedRequests',
    prometheus: 'deskbroker_leased_requests_total',
    unit: 'Count',
    help: 'Requests served from connection leases because the site database did not answer (leased mode).',
    labels: [],
  },
  outboxAppended: {
    kind: 'counter',
    cloudwatch: 'OutboxAppended',
    prometheus: 'deskbroker_outbox_appended_total',
    unit: 'Count',
    help: 'Leased-mode events put in the outbox, to be written to the site database when it is back.',
    labels: [],
  },
  outboxReplayed: {
    kind: 'counter',
    cloudwatch: 'OutboxReplayed',
    prometheus: 'deskbroker_outbox_replayed_total',
    unit: 'Count',
    help: 'Outbox items written back to the site database, by result (applied, duplicate).',
    labels: ['result'],
  },
  outboxDepth: {
    kind: 'gauge',
    cloudwatch: 'OutboxDepth',
    prometheus: 'deskbroker_outbox_depth',
    unit: 'Count',
    help: 'Outbox items waiting for the site database, measured when a replay starts and ends.',
    labels: [],
  },
  jobs: {
    kind: 'counter',
    cloudwatch: 'Jobs',
    prometheus: 'deskbroker_jobs_total',
    unit: 'Count',
    help: 'Jobs run, by kind and outcome (finished, failed = will be retried, aborted = given up, superseded).',
    labels: ['kind', 'outcome'],
  },
  jobLimitWaits: {
    kind: 'counter',
    cloudwatch: 'JobLimitWaits',
    prometheus: 'deskbroker_job_limit_waits_total',
    unit: 'Count',
    help: 'Polls at which the job limits (Appendix A) held jobs back, by limit (load, concurrency); local brokers only.',
    labels: ['limit'],
  },
  gatewayRegistrations: {
    kind: 'counter',
    cloudwatch: 'GatewayRegistrations',
    prometheus: 'deskbroker_gateway_registrations_total',
    unit: 'Count',
    help: 'Gateway registration calls, by event (registered, renewed, deregistered).',
    labels: ['event'],
  },
  gatewayForwards: {
    kind: 'gauge',
    cloudwatch: 'GatewayForwards',
    prometheus: 'deskbroker_gateway_forwards',
    unit: 'Count',
    help: 'Forwards a gateway holds open, from its last registration renewal.',
    labels: ['gateway'],
  },
  gatewayConnections: {
    kind: 'gauge',
    cloudwatch: 'GatewayConnections',
    prometheus: 'deskbroker_gateway_connections',
    unit: 'Count',
    help: 'Connections open through a gateway, from its last registration renewal.',
    labels: ['gateway'],
  },
  gatewayBytes: {
    kind: 'counter',
    cloudwatch: 'GatewayBytes',
    prometheus: 'deskbroker_gateway_bytes_total',
    unit: 'Bytes',
    help: 'Bytes a gateway forwarded, by direction (to_desktops, to_clients), reported with its renewals.',
    labels: ['gateway', 'direction'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
type OfKind<K extends MetricKind> = {
  [N in MetricName]: (typeof METRICS)[N]['kind'] extends K ? N : never;
}[MetricName];
export type CounterName = OfKind<'counter'>;
export type GaugeName = OfKind<'gauge'>;
export type HistogramName = OfKind<'histogram'>;

/** The labels a metric takes, every one required. */
export type LabelsOf<N extends MetricName> = {
  readonly [L in (typeof METRICS)[N]['labels'][number]]: string;
};
