/**
 * The metrics port: what use cases record. The composition picks the adapter: Powertools
 * Metrics (EMF) on Lambda, prom-client in the local runtime (adapters/metrics/). Recording
 * never throws and never waits.
 */
import type { CounterName, GaugeName, HistogramName, LabelsOf } from './catalogue.ts';

export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  count<N extends CounterName>(name: N, labels: LabelsOf<N>, value?: number): void;
  /** Sets a gauge to its current value. */
  gauge<N extends GaugeName>(name: N, value: number, labels: LabelsOf<N>): void;
  /** Records one observation of a distribution (a duration, in the metric's unit). */
  observe<N extends HistogramName>(name: N, value: number, labels: LabelsOf<N>): void;
}

/** The Prometheus text exposition of the metrics recorded so far. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

/** What the runtime does with recorded metrics. */
export interface MetricsOutput {
  /** Publishes what was buffered (EMF: at the end of each invocation); a no-op elsewhere. */
  flush(): void;
  /** The exposition for `GET /metrics`, or undefined where metrics go elsewhere (CloudWatch). */
  exposition(): Promise<Exposition | undefined>;
  /** Where the metrics go, for the answer when there is no exposition. */
  readonly destination: string;
}

/** Records nothing (tools and tests that do not look at metrics). */
export const NO_METRICS: Metrics & MetricsOutput = {
  count: () => {},
  gauge: () => {},
  observe: () => {},
  flush: () => {},
  exposition: async () => undefined,
  destination: 'nowhere (metrics are off)',
};
