/**
 * Metrics in CloudWatch's embedded metric format, through Powertools Metrics: recorded values
 * are buffered per dimension set during an invocation and written as EMF JSON lines to stdout
 * by {@link EmfMetrics.flush}, which the Lambda entry calls after each invocation. CloudWatch
 * Logs turns the lines into metrics; nothing is sent anywhere else.
 */
import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import {
  type CounterName,
  type GaugeName,
  type HistogramName,
  type LabelsOf,
  METRICS,
  METRICS_SERVICE,
  type MetricName,
} from '../../core/metrics/catalogue.ts';
import type { Exposition, Metrics, MetricsOutput } from '../../core/metrics/ports.ts';

interface Pending {
  readonly dimensions: Readonly<Record<string, string>>;
  /** Metric → values (counters are summed at flush, gauges keep the last, histograms all). */
  readonly values: Map<MetricName, number[]>;
}

export class EmfMetrics implements Metrics, MetricsOutput {
  readonly #powertools: PowertoolsMetrics;
  readonly #pending = new Map<string, Pending>();
  readonly destination: string;

  constructor(options: { namespace: string }) {
    this.#powertools = new PowertoolsMetrics({
      namespace: options.namespace,
      serviceName: METRICS_SERVICE,
    });
    this.destination = `CloudWatch (namespace ${options.namespace})`;
  }

  count<N extends CounterName>(name: N, labels: LabelsOf<N>, value = 1): void {
    if (value !== 0) this.#record(name, labels, value);
  }

  gauge<N extends GaugeName>(name: N, value: number, labels: LabelsOf<N>): void {
    this.#record(name, labels, value);
  }

  observe<N extends HistogramName>(name: N, value: number, labels: LabelsOf<N>): void {
    this.#record(name, labels, value);
  }

  #record(name: MetricName, labels: Readonly<Record<string, string>>, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = JSON.stringify(labels);
    let group = this.#pending.get(key);
    if (!group) {
      group = { dimensions: { ...labels }, values: new Map() };
      this.#pending.set(key, group);
    }
    const values = group.values.get(name);
    if (values) values.push(value);
    else group.values.set(name, [value]);
  }

  /** Writes one EMF line per dimension set recorded since the last flush. Never throws. */
  flush(): void {
    const groups = [...this.#pending.values()];
    this.#pending.clear();
    for (const group of groups) {
      try {
        if (Object.keys(group.dimensions).length > 0)
          this.#powertools.addDimensions(group.dimensions);
        for (const [name, values] of group.values) {
          const spec = METRICS[name];
          const out =
            spec.kind === 'counter'
              ? [values.reduce((a, b) => a + b, 0)]
              : spec.kind === 'gauge'
                ? [values.at(-1)!]
                : values;
          for (const v of out) this.#powertools.addMetric(spec.cloudwatch, spec.unit, v);
        }
        this.#powertools.publishStoredMetrics();
      } catch {
        // Metrics must never fail a request; what was not written is dropped.
        this.#powertools.clearMetrics();
        this.#powertools.clearDimensions();
      }
    }
  }

  async exposition(): Promise<Exposition | undefined> {
    return undefined;
  }
}
