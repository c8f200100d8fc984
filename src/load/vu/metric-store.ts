/**
 * k6's metric model: named metrics of four types (Counter, Gauge, Rate, Trend), each sample with a tag
 * set. Samples are kept per distinct tag set so that submetrics (`http_req_duration{status:200}`) and
 * thresholds can filter by tags after the fact. Trend sinks keep every value and percentiles use
 * linear interpolation at p·(n−1), exactly as k6's TrendSink (facts §3.3), so numbers agree with k6.
 */

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type Contains = 'default' | 'time' | 'data';
export type Tags = Record<string, string>;

export interface MetricDef {
  name: string;
  type: MetricType;
  contains: Contains;
}

interface Series {
  tags: Tags;
  values: number[];
  sum: number;
  count: number;
  nonZero: number;
  last: number;
  min: number;
  max: number;
}

/** k6's built-in metrics (metrics/builtin.go). */
export const BUILTIN_METRICS: MetricDef[] = [
  ['vus', 'gauge'],
  ['vus_max', 'gauge'],
  ['iterations', 'counter'],
  ['dropped_iterations', 'counter'],
  ['iteration_duration', 'trend', 'time'],
  ['group_duration', 'trend', 'time'],
  ['checks', 'rate'],
  ['http_reqs', 'counter'],
  ['http_req_failed', 'rate'],
  ['http_req_duration', 'trend', 'time'],
  ['http_req_blocked', 'trend', 'time'],
  ['http_req_connecting', 'trend', 'time'],
  ['http_req_tls_handshaking', 'trend', 'time'],
  ['http_req_sending', 'trend', 'time'],
  ['http_req_waiting', 'trend', 'time'],
  ['http_req_receiving', 'trend', 'time'],
  ['data_sent', 'counter', 'data'],
  ['data_received', 'counter', 'data'],
].map(([name, type, contains]) => ({ name, type: type as MetricType, contains: (contains ?? 'default') as Contains }));

export const METRIC_NAME = /^[\p{L}\p{N}\._ !\?/&#\(\)<>%-]{1,128}$/u;

const tagKey = (t: Tags) => {
  const keys = Object.keys(t).sort();
  let s = '';
  for (const k of keys) s += `${k}\u0000${t[k]}\u0001`;
  return s;
};

/** k6's percentile: sorted values, linear interpolation at p·(n−1). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(i);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

export type Values = Record<string, number>;

export class MetricStore {
  readonly defs = new Map<string, MetricDef>();
  private readonly series = new Map<string, Map<string, Series>>();
  /** Called for every sample (the `--out json` stream). */
  onSample?: (def: MetricDef, value: number, tags: Tags, timeMs: number, metadata?: Tags) => void;

  constructor() {
    for (const d of BUILTIN_METRICS) this.defs.set(d.name, d);
  }

  /** k6 refuses a name reused with another type. Returns an error message, or undefined. */
  define(name: string, type: MetricType, contains: Contains): string | undefined {
    const old = this.defs.get(name);
    if (old) return old.type === type ? undefined : `metric "${name}" already exists with type ${old.type}`;
    if (!METRIC_NAME.test(name)) return `invalid metric name "${name}" (letters, digits, ._ !?/&#()<>%- up to 128 characters)`;
    this.defs.set(name, { name, type, contains });
    return undefined;
  }

  add(name: string, value: number, tags: Tags, timeMs = Date.now(), metadata?: Tags): void {
    const def = this.defs.get(name);
    if (!def) return;
    let byTags = this.series.get(name);
    if (!byTags) {
      byTags = new Map();
      this.series.set(name, byTags);
    }
    const k = tagKey(tags);
    let s = byTags.get(k);
    if (!s) {
      s = { tags: { ...tags }, values: [], sum: 0, count: 0, nonZero: 0, last: 0, min: Infinity, max: -Infinity };
      byTags.set(k, s);
    }
    s.count++;
    s.sum += value;
    if (value !== 0) s.nonZero++;
    s.last = value;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    if (def.type === 'trend') s.values.push(value);
    this.onSample?.(def, value, tags, timeMs, metadata);
  }

  /** Every tag set of a metric with its sums (for the check tree of the summary). */
  seriesOf(name: string): Array<{ tags: Tags; count: number; nonZero: number }> {
    return [...(this.series.get(name)?.values() ?? [])];
  }

  has(name: string): boolean {
    return (this.series.get(name)?.size ?? 0) > 0;
  }

  /** Names of metrics with samples. */
  names(): string[] {
    return [...this.series.keys()].filter((n) => this.has(n));
  }

  /** Values of a metric (optionally only samples whose tags include `filter`), k6's aggregation per type. */
  values(
    name: string,
    durationSec: number,
    filter?: Tags,
    trendStats: string[] = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
  ): Values | undefined {
    const def = this.defs.get(name);
    const byTags = this.series.get(name);
    if (!def || !byTags) return undefined;
    const picked = [...byTags.values()].filter((s) => !filter || Object.entries(filter).every(([k, v]) => s.tags[k] === v));
    if (picked.length === 0) return undefined;
    let count = 0,
      sum = 0,
      nonZero = 0,
      min = Infinity,
      max = -Infinity,
      last = 0;
    for (const s of picked) {
      count += s.count;
      sum += s.sum;
      nonZero += s.nonZero;
      if (s.min < min) min = s.min;
      if (s.max > max) max = s.max;
      last = s.last;
    }
    switch (def.type) {
      case 'counter':
        return { count: sum, rate: durationSec > 0 ? sum / durationSec : 0 };
      case 'gauge':
        return { value: last, min, max };
      case 'rate':
        return { rate: count ? nonZero / count : 0, passes: nonZero, fails: count - nonZero };
      case 'trend': {
        const all: number[] = [];
        for (const s of picked) for (const v of s.values) all.push(v);
        all.sort((a, b) => a - b);
        const out: Values = {};
        const want = new Set([...trendStats, 'avg', 'min', 'med', 'max', 'p(90)', 'p(95)']);
        for (const st of want) {
          if (st === 'avg') out.avg = count ? sum / count : 0;
          else if (st === 'min') out.min = all[0] ?? 0;
          else if (st === 'max') out.max = all[all.length - 1] ?? 0;
          else if (st === 'med') out.med = percentile(all, 50);
          else if (st === 'count') out.count = count;
          else {
            const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(st);
            if (m) out[st] = percentile(all, Number(m[1]));
          }
        }
        return out;
      }
    }
  }
}
