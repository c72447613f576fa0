/**
 * Metrics for the local runtime, kept in a prom-client registry of their own (one per broker,
 * so several brokers in one process do not mix) and served in the Prometheus text format at
 * `GET /metrics`. Durations recorded in milliseconds are exposed in seconds, as Prometheus
 * names them. prom-client is loaded on first use, so Lambda bundles never load it.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  type CounterName,
  type GaugeName,
  type HistogramName,
  type LabelsOf,
  METRICS,
  type MetricName,
  type MetricSpec,
} from '../../core/metrics/catalogue.ts';
import type { Exposition, Metrics, MetricsOutput } from '../../core/metrics/ports.ts';

/** Histogram buckets for durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Instrument = Counter | Gauge | Histogram;

const scale = (spec: MetricSpec, value: number) =>
  spec.unit === 'Milliseconds' ? value / 1000 : value;

export class PrometheusMetrics implements Metrics, MetricsOutput {
  readonly #registry: Registry;
  readonly #instruments: ReadonlyMap<MetricName, Instrument>;
  readonly destination = 'GET /metrics (Prometheus text format)';

  private constructor(registry: Registry, instruments: ReadonlyMap<MetricName, Instrument>) {
    this.#registry = registry;
    this.#instruments = instruments;
  }

  /** Makes a registry with every metric of the catalogue. */
  static async create(): Promise<PrometheusMetrics> {
    const client = await import('prom-client');
    const registry = new client.Registry();
    const instruments = new Map<MetricName, Instrument>();
    for (const [name, spec] of Object.entries(METRICS) as [MetricName, MetricSpec][]) {
      const common = {
        name: spec.prometheus,
        help: spec.help,
        labelNames: [...spec.labels],
        registers: [registry],
      };
      instruments.set(
        name,
        spec.kind === 'counter'
          ? new client.Counter(common)
          : spec.kind === 'gauge'
            ? new client.Gauge(common)
            : new client.Histogram({ ...common, buckets: DURATION_BUCKETS }),
      );
    }
    return new PrometheusMetrics(registry, instruments);
  }

  count<N extends CounterName>(name: N, labels: LabelsOf<N>, value = 1): void {
    if (value > 0) (this.#instruments.get(name) as Counter).inc(labels, value);
  }

  gauge<N extends GaugeName>(name: N, value: number, labels: LabelsOf<N>): void {
    (this.#instruments.get(name) as Gauge).set(labels, value);
  }

  observe<N extends HistogramName>(name: N, value: number, labels: LabelsOf<N>): void {
    (this.#instruments.get(name) as Histogram).observe(labels, scale(METRICS[name], value));
  }

  flush(): void {}

  async exposition(): Promise<Exposition> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}
