/**
 * The metrics catalogue and its two adapters: the EMF lines Powertools writes (captured from
 * stdout, as CloudWatch Logs would receive them) and the prom-client exposition.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics } from '../../functions/adapters/metrics/emf-metrics.ts';
import { PrometheusMetrics } from '../../functions/adapters/metrics/prometheus-metrics.ts';
import {
  METRICS,
  METRICS_SERVICE,
  type MetricSpec,
} from '../../functions/core/metrics/catalogue.ts';

describe('the catalogue', () => {
  const specs = Object.values(METRICS) as MetricSpec[];

  it('names every metric once in each system, in each system’s style', () => {
    expect(new Set(specs.map((s) => s.cloudwatch)).size).toBe(specs.length);
    expect(new Set(specs.map((s) => s.prometheus)).size).toBe(specs.length);
    for (const s of specs) {
      expect(s.cloudwatch).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(s.prometheus).toMatch(/^deskbroker_[a-z_]+$/);
      expect(s.prometheus.endsWith('_total'), s.prometheus).toBe(s.kind === 'counter');
      expect(s.prometheus.endsWith('_seconds'), s.prometheus).toBe(s.unit === 'Milliseconds');
      // EMF allows 30 dimensions, one of which Powertools takes for `service`.
      expect(s.labels.length).toBeLessThanOrEqual(3);
    }
  });
});

describe('EMF adapter', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  // biome-ignore lint/suspicious/noExplicitAny: EMF blobs are JSON.
  const blobs = (): any[] =>
    lines
      .flatMap((l) => l.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  it('writes nothing until flushed, then one EMF line per dimension set', () => {
    const metrics = new EmfMetrics({ namespace: 'Deskbroker/Test' });
    metrics.count('logins', { result: 'succeeded', authType: 'local', mode: 'normal' });
    metrics.count('logins', { result: 'succeeded', authType: 'local', mode: 'normal' });
    metrics.observe('loginLatency', 12, { result: 'succeeded' });
    metrics.observe('loginLatency', 30, { result: 'succeeded' });
    metrics.count('leasedRequests', {});
    metrics.gauge('outboxDepth', 4, {});
    metrics.gauge('outboxDepth', 0, {});
    expect(lines).toEqual([]);

    metrics.flush();
    const out = blobs();

    expect(out).toHaveLength(3);
    const [logins, latency, plain] = out;
    expect(logins._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Deskbroker/Test',
        Dimensions: [['service', 'result', 'authType', 'mode']],
        Metrics: [{ Name: 'Logins', Unit: 'Count' }],
      },
    ]);
    expect(logins).toMatchObject({
      service: METRICS_SERVICE,
      result: 'succeeded',
      authType: 'local',
      mode: 'normal',
      Logins: 2,
    });
    expect(latency.LoginLatency).toEqual([12, 30]);
    expect(latency._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'LoginLatency', Unit: 'Milliseconds' },
    ]);
    expect(plain._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(plain).toMatchObject({ LeasedRequests: 1, OutboxDepth: 0 });
  });

  it('starts afresh after a flush and writes nothing when nothing was recorded', () => {
    const metrics = new EmfMetrics({ namespace: 'Deskbroker/Test' });
    metrics.count('connects', { via: 'direct', mode: 'normal' });
    metrics.flush();
    metrics.flush();
    metrics.count('connects', { via: 'gateway', mode: 'normal' }, 3);
    metrics.flush();

    expect(blobs().map((b) => [b.via, b.Connects])).toEqual([
      ['direct', 1],
      ['gateway', 3],
    ]);
  });

  it('has no exposition: its metrics go to CloudWatch', async () => {
    const metrics = new EmfMetrics({ namespace: 'Deskbroker/Test' });
    expect(await metrics.exposition()).toBeUndefined();
    expect(metrics.destination).toContain('Deskbroker/Test');
  });
});

describe('Prometheus adapter', () => {
  it('exposes counters, gauges and durations in seconds', async () => {
    const metrics = await PrometheusMetrics.create();
    metrics.count('logins', { result: 'failed', authType: 'none', mode: 'normal' });
    metrics.count('gatewayBytes', { gateway: 'gw1', direction: 'to_clients' }, 2048);
    metrics.gauge('gatewayForwards', 7, { gateway: 'gw1' });
    metrics.observe('loginLatency', 40, { result: 'succeeded' });

    const { body, contentType } = await metrics.exposition();

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE deskbroker_logins_total counter');
    expect(body).toContain(
      'deskbroker_logins_total{result="failed",authType="none",mode="normal"} 1',
    );
    expect(body).toContain(
      'deskbroker_gateway_bytes_total{gateway="gw1",direction="to_clients"} 2048',
    );
    expect(body).toContain('deskbroker_gateway_forwards{gateway="gw1"} 7');
    expect(body).toContain('deskbroker_login_duration_seconds_sum{result="succeeded"} 0.04');
    expect(body).toContain(
      'deskbroker_login_duration_seconds_bucket{le="0.05",result="succeeded"} 1',
    );
  });

  it('keeps one registry per broker', async () => {
    const [a, b] = await Promise.all([PrometheusMetrics.create(), PrometheusMetrics.create()]);
    a.count('leasedRequests', {});
    expect((await a.exposition()).body).toContain('deskbroker_leased_requests_total 1');
    expect((await b.exposition()).body).toContain('deskbroker_leased_requests_total 0');
  });
});
