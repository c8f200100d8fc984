/**
 * `--out json=FILE` in k6's JSON output format (internal/output/json, facts §3.1): a Metric line the
 * first time a metric gets a sample, then one Point line per sample, times in RFC3339 with ns.
 * `spillover import k6` reads it back (k6-import.ts).
 */
import { NdjsonSink } from '../ndjson-sink.ts';
import type { MetricDef, Tags } from './metric-store.ts';
import type { Threshold } from './thresholds.ts';

/** RFC3339 with nanoseconds, UTC, from fractional Unix ms. */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString().slice(0, 19);
  const ns = Math.round((ms - Math.floor(ms / 1000) * 1000) * 1e6);
  return `${iso}.${String(Math.min(ns, 999_999_999)).padStart(9, '0')}Z`;
}

export class JsonOutput {
  private readonly sink: NdjsonSink;
  private readonly seen = new Set<string>();

  constructor(
    file: string,
    private readonly thresholds: Threshold[],
  ) {
    this.sink = new NdjsonSink(file);
  }

  sample(def: MetricDef, value: number, tags: Tags, timeMs: number, metadata?: Tags): void {
    if (!this.seen.has(def.name)) {
      this.seen.add(def.name);
      const th = this.thresholds
        .filter((t) => t.key === def.name)
        .map((t) => (t.abortOnFail ? { threshold: t.source, abortOnFail: true, delayAbortEval: `${t.delayAbortEvalSec}s` } : t.source));
      const submetrics = this.thresholds
        .filter((t) => t.metric === def.name && t.filter)
        .map((t) => ({ name: t.key, suffix: t.key.slice(def.name.length + 1, -1), tags: t.filter }));
      this.sink.writeObject({
        type: 'Metric',
        data: { name: def.name, type: def.type, contains: def.contains, thresholds: th, submetrics: submetrics.length ? submetrics : null },
        metric: def.name,
      });
    }
    this.sink.writeObject({
      metric: def.name,
      type: 'Point',
      data: { time: rfc3339Nano(timeMs), value, tags, ...(metadata ? { metadata } : {}) },
    });
    this.sink.maybeFlush(performance.now());
  }

  close(): void {
    this.sink.close();
  }
}
