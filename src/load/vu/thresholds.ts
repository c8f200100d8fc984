/**
 * k6 thresholds (metrics/thresholds_parser.go, facts §4): `"<aggregation> <op> <number>"` per metric or
 * submetric (`http_req_duration{status:200}`), long form `{threshold, abortOnFail, delayAbortEval}`.
 * A threshold with no samples passes (k6 skips it). A failed threshold makes the run exit 99.
 */
import { parseK6DurationSeconds } from '../../util/duration.ts';
import type { MetricStore, MetricType, Tags } from './metric-store.ts';

export interface Threshold {
  /** The key as written in options.thresholds, e.g. `http_req_duration{status:200}`. */
  key: string;
  metric: string;
  filter?: Tags;
  source: string;
  agg: string;
  op: string;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalSec: number;
  /** Last evaluation: true = passed. */
  ok?: boolean;
}

const EXPR =
  /^\s*(count|rate|value|avg|min|max|med|p\(\s*\d+(?:\.\d+)?\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/;

const AGG_BY_TYPE: Record<MetricType, RegExp> = {
  counter: /^(count|rate)$/,
  gauge: /^value$/,
  rate: /^rate$/,
  trend: /^(avg|min|max|med|p\(.*\))$/,
};

/** Parse `name{tag:value,...}`. */
export function parseMetricKey(key: string): { metric: string; filter?: Tags } | string {
  const m = /^([^{]+?)\s*(?:\{(.*)\})?\s*$/.exec(key);
  if (!m) return `cannot read metric key "${key}"`;
  if (m[2] === undefined) return { metric: m[1] };
  const filter: Tags = {};
  for (const part of m[2].split(',')) {
    if (part.trim() === '') continue;
    const i = part.indexOf(':');
    if (i <= 0) return `submetric tag "${part}" in "${key}" is not key:value`;
    filter[part.slice(0, i).trim()] = part
      .slice(i + 1)
      .trim()
      .replace(/^["'](.*)["']$/, '$1');
  }
  return { metric: m[1], filter };
}

/** Returns the thresholds, or a list of problems (k6 refuses such a script with exit 104). */
export function parseThresholds(raw: unknown, store: MetricStore): { thresholds: Threshold[]; problems: string[] } {
  const thresholds: Threshold[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { thresholds, problems };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { thresholds, problems: ['options.thresholds must be an object keyed by metric name'] };
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    const mk = parseMetricKey(key);
    if (typeof mk === 'string') {
      problems.push(mk);
      continue;
    }
    const def = store.defs.get(mk.metric);
    if (!def) {
      problems.push(
        `invalid threshold defined on ${key}: no metric name "${mk.metric}" found (define it in the init context, or correct the name)`,
      );
      continue;
    }
    const items = Array.isArray(list) ? list : [list];
    for (const item of items) {
      let source: string,
        abortOnFail = false,
        delay = 0;
      if (typeof item === 'string') source = item;
      else if (item && typeof item === 'object' && typeof (item as { threshold?: unknown }).threshold === 'string') {
        const o = item as { threshold: string; abortOnFail?: boolean; delayAbortEval?: unknown };
        source = o.threshold;
        abortOnFail = o.abortOnFail === true;
        if (o.delayAbortEval !== undefined) {
          const d = parseK6DurationSeconds(o.delayAbortEval);
          if (d === undefined) {
            problems.push(`thresholds.${key}: delayAbortEval ${JSON.stringify(o.delayAbortEval)} is not a k6 duration`);
            continue;
          }
          delay = d;
        }
      } else {
        problems.push(`thresholds.${key}: ${JSON.stringify(item)} is neither an expression string nor {threshold: "..."}`);
        continue;
      }
      const m = EXPR.exec(source);
      if (!m) {
        problems.push(`thresholds.${key}: "${source}" is not a k6 threshold expression (e.g. "p(95)<200", "rate<0.01", "count>10")`);
        continue;
      }
      const agg = m[1].replace(/\s+/g, '');
      if (!AGG_BY_TYPE[def.type].test(agg)) {
        problems.push(`thresholds.${key}: aggregation "${agg}" does not apply to a ${def.type} metric`);
        continue;
      }
      thresholds.push({
        key,
        metric: mk.metric,
        filter: mk.filter,
        source,
        agg,
        op: m[2],
        value: Number(m[3]),
        abortOnFail,
        delayAbortEvalSec: delay,
      });
    }
  }
  return { thresholds, problems };
}

const compare = (a: number, op: string, b: number): boolean => {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
    case '===':
      return a === b;
    default:
      return a !== b;
  }
};

/** Evaluate every threshold now. Returns the thresholds that failed and ask to abort the run. */
export function evaluateThresholds(ts: Threshold[], store: MetricStore, elapsedSec: number): Threshold[] {
  const aborting: Threshold[] = [];
  for (const t of ts) {
    const stats = t.agg.startsWith('p(') ? [t.agg] : [];
    const v = store.values(t.metric, elapsedSec, t.filter, stats);
    if (!v) {
      t.ok = true;
      continue;
    }
    const x = v[t.agg === 'value' ? 'value' : t.agg];
    t.ok = x === undefined ? true : compare(x, t.op, t.value);
    if (!t.ok && t.abortOnFail && elapsedSec >= t.delayAbortEvalSec) aborting.push(t);
  }
  return aborting;
}
