/**
 * Per-bucket view of a run: offered vs achieved load, who served it, outcomes, latency percentiles.
 * Buckets are [t, t+bucketS) on the run clock, indexed by send time (when the request entered the
 * mesh, which is also when Envoy's access log stamps it).
 */
import type { LoadTick } from '../contracts/raw.ts';
import { FLAG_BITS, OTHER_FLAG, type AccessColumns } from './access-log.ts';
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';
import { k6Percentile } from '../util/percentile.ts';

export interface TimeseriesRow {
  t_s: number;
  target_rps: number;
  dropped: number;
  sent_rps: number;
  ok_rps: number;
  served_a_rps: number;
  served_b_rps: number;
  served_other_rps: number;
  status_2xx: number;
  status_3xx: number;
  status_4xx: number;
  status_5xx: number;
  transport_errors: number;
  overflow_503: number;
  upstream_5xx: number;
  /** From the client Envoy's access log (null columns when there is none, e.g. a k6 import). */
  flag_uo: number | null;
  flag_uh: number | null;
  flag_urx: number | null;
  flag_uf: number | null;
  flag_ut: number | null;
  flag_other: number | null;
  retried: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  a_p50_ms: number | null;
  a_p95_ms: number | null;
  a_p99_ms: number | null;
  b_p50_ms: number | null;
  b_p95_ms: number | null;
  b_p99_ms: number | null;
}

export const TIMESERIES_COLUMNS: Array<keyof TimeseriesRow> = [
  't_s',
  'target_rps',
  'dropped',
  'sent_rps',
  'ok_rps',
  'served_a_rps',
  'served_b_rps',
  'served_other_rps',
  'status_2xx',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'transport_errors',
  'overflow_503',
  'upstream_5xx',
  'flag_uo',
  'flag_uh',
  'flag_urx',
  'flag_uf',
  'flag_ut',
  'flag_other',
  'retried',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'a_p50_ms',
  'a_p95_ms',
  'a_p99_ms',
  'b_p50_ms',
  'b_p95_ms',
  'b_p99_ms',
];

/** Rounded so CSV and JSON are stable and readable; ms-level precision is all the data has. */
export const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r3n = (x: number) => (Number.isNaN(x) ? null : r3(x));

/** Load ticks describe (t−1, t]: spread each tick's rate over the buckets it overlaps. */
export function offeredRate(ticks: LoadTick[], lo: number, hi: number): number {
  let area = 0;
  for (const k of ticks) {
    const a = Math.max(lo, k.t - 1);
    const b = Math.min(hi, k.t);
    if (b > a) area += k.target * (b - a);
  }
  return area / (hi - lo);
}

export function buildTimeseries(
  req: RequestColumns,
  ticks: LoadTick[],
  access: AccessColumns | undefined,
  bucketS: number,
): TimeseriesRow[] {
  let minI = Infinity;
  let maxI = -Infinity;
  for (let i = 0; i < req.n; i++) {
    const b = Math.floor(req.sent[i] / bucketS);
    if (b < minI) minI = b;
    if (b > maxI) maxI = b;
  }
  for (const k of ticks) {
    minI = Math.min(minI, Math.floor((k.t - 1) / bucketS));
    maxI = Math.max(maxI, Math.ceil(k.t / bucketS) - 1);
  }
  if (!Number.isFinite(minI)) return [];
  const nb = maxI - minI + 1;
  const bucketOf = (t: number) => Math.min(nb - 1, Math.max(0, Math.floor(t / bucketS) - minI));

  const sent = new Float64Array(nb);
  const ok = new Float64Array(nb);
  const served = [new Float64Array(nb), new Float64Array(nb), new Float64Array(nb), new Float64Array(nb)];
  const cls = [new Float64Array(nb), new Float64Array(nb), new Float64Array(nb), new Float64Array(nb)]; // 2xx..5xx
  const outc = OUTCOME_COUNT(nb);
  const bi = new Int32Array(req.n);
  for (let i = 0; i < req.n; i++) {
    const b = bucketOf(req.sent[i]);
    bi[i] = b;
    sent[b]++;
    const o = req.outcome[i];
    outc[o][b]++;
    if (o === OUTCOME.ok) ok[b]++;
    served[req.dest[i]][b]++;
    const s = req.status[i];
    if (s >= 200 && s < 600) cls[Math.floor(s / 100) - 2][b]++;
  }
  const pct = bucketPercentiles(req, bi, nb);

  const flags = access ? accessBuckets(access, bucketOf, nb) : undefined;
  const rows: TimeseriesRow[] = [];
  for (let b = 0; b < nb; b++) {
    const t = (b + minI) * bucketS;
    const f = flags?.[b];
    rows.push({
      t_s: r3(t),
      target_rps: r3(offeredRate(ticks, t, t + bucketS)),
      dropped: r3(ticks.reduce((s, k) => s + k.dropped * Math.max(0, Math.min(t + bucketS, k.t) - Math.max(t, k.t - 1)), 0)),
      sent_rps: r3(sent[b] / bucketS),
      ok_rps: r3(ok[b] / bucketS),
      served_a_rps: r3(served[DEST.A][b] / bucketS),
      served_b_rps: r3(served[DEST.B][b] / bucketS),
      served_other_rps: r3(served[DEST.other][b] / bucketS),
      status_2xx: cls[0][b],
      status_3xx: cls[1][b],
      status_4xx: cls[2][b],
      status_5xx: cls[3][b],
      transport_errors: outc[OUTCOME.transport][b],
      overflow_503: outc[OUTCOME.overflow503][b],
      upstream_5xx: outc[OUTCOME.upstream5xx][b],
      flag_uo: f ? f.uo : null,
      flag_uh: f ? f.uh : null,
      flag_urx: f ? f.urx : null,
      flag_uf: f ? f.uf : null,
      flag_ut: f ? f.ut : null,
      flag_other: f ? f.other : null,
      retried: f ? f.retried : null,
      p50_ms: r3n(pct[0][b * 3]),
      p95_ms: r3n(pct[0][b * 3 + 1]),
      p99_ms: r3n(pct[0][b * 3 + 2]),
      a_p50_ms: r3n(pct[1][b * 3]),
      a_p95_ms: r3n(pct[1][b * 3 + 1]),
      a_p99_ms: r3n(pct[1][b * 3 + 2]),
      b_p50_ms: r3n(pct[2][b * 3]),
      b_p95_ms: r3n(pct[2][b * 3 + 1]),
      b_p99_ms: r3n(pct[2][b * 3 + 2]),
    });
  }
  return rows;
}

const OUTCOME_COUNT = (nb: number) => Array.from({ length: 5 }, () => new Float64Array(nb));

/**
 * p50/p95/p99 per bucket, for all requests, A-served and B-served: a counting sort groups latencies by
 * (bucket, group) in one pass, then each group's slice is sorted in place. No per-request objects.
 */
function bucketPercentiles(req: RequestColumns, bi: Int32Array, nb: number): Float64Array[] {
  const groups: Array<(i: number) => boolean> = [() => true, (i) => req.dest[i] === DEST.A, (i) => req.dest[i] === DEST.B];
  return groups.map((inGroup) => {
    const counts = new Int32Array(nb + 1);
    for (let i = 0; i < req.n; i++) if (inGroup(i)) counts[bi[i] + 1]++;
    for (let b = 0; b < nb; b++) counts[b + 1] += counts[b];
    const pos = counts.slice(0, nb);
    const vals = new Float64Array(counts[nb]);
    for (let i = 0; i < req.n; i++) if (inGroup(i)) vals[pos[bi[i]]++] = req.latencyMs[i];
    const out = new Float64Array(nb * 3).fill(NaN);
    for (let b = 0; b < nb; b++) {
      const slice = vals.subarray(counts[b], counts[b + 1]).sort();
      if (slice.length === 0) continue;
      out[b * 3] = k6Percentile(slice, 0.5);
      out[b * 3 + 1] = k6Percentile(slice, 0.95);
      out[b * 3 + 2] = k6Percentile(slice, 0.99);
    }
    return out;
  });
}

function accessBuckets(a: AccessColumns, bucketOf: (t: number) => number, nb: number) {
  const rows = Array.from({ length: nb }, () => ({ uo: 0, uh: 0, urx: 0, uf: 0, ut: 0, other: 0, retried: 0 }));
  for (let i = 0; i < a.n; i++) {
    const r = rows[bucketOf(a.start[i])];
    const f = a.flags[i];
    if (f & FLAG_BITS.UO) r.uo++;
    if (f & FLAG_BITS.UH) r.uh++;
    if (f & FLAG_BITS.URX) r.urx++;
    if (f & FLAG_BITS.UF) r.uf++;
    if (f & FLAG_BITS.UT) r.ut++;
    if (f & (OTHER_FLAG | FLAG_BITS.UC | FLAG_BITS.UR | FLAG_BITS.LR | FLAG_BITS.DC | FLAG_BITS.NR)) r.other++;
    if (a.attempts[i] > 1) r.retried++;
  }
  return rows;
}
