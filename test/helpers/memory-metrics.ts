/**
 * A metrics port that keeps what was recorded, for unit tests: counters summed, gauges as
 * last set, observations listed, each under `name{labels as JSON}`.
 */
import type { Metrics } from '../../functions/core/metrics/ports.ts';

export class RecordingMetrics implements Metrics {
  readonly counts = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  static key(name: string, labels: object): string {
    return `${name}${JSON.stringify(labels)}`;
  }

  count(name: string, labels: object, value = 1): void {
    const k = RecordingMetrics.key(name, labels);
    this.counts.set(k, (this.counts.get(k) ?? 0) + value);
  }

  gauge(name: string, value: number, labels: object): void {
    this.gauges.set(RecordingMetrics.key(name, labels), value);
  }

  observe(name: string, value: number, labels: object): void {
    const k = RecordingMetrics.key(name, labels);
    this.observations.set(k, [...(this.observations.get(k) ?? []), value]);
  }

  /** The counter `name` with exactly `labels` (0 when never counted). */
  counted(name: string, labels: object = {}): number {
    return this.counts.get(RecordingMetrics.key(name, labels)) ?? 0;
  }
}
