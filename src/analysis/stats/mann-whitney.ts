/**
 * Two-sided Mann-Whitney U test (Wilcoxon rank-sum), the test benchstat uses to say whether two sets
 * of benchmark runs differ.
 *
 * Repeats are few (3 to 10), so the p-value comes from the exact permutation distribution of the
 * rank sum, conditional on the observed ties (midranks). Ties are common here: an event that never
 * happened is +Infinity on every run, and time-to-event figures are quantised by the scrape
 * interval. The exact distribution is counted by dynamic programming over doubled midranks (which are
 * integers). Above EXACT_LIMIT samples the normal approximation with tie and continuity corrections
 * is used instead, as R's wilcox.test does.
 *
 * Neither simple-statistics (rank sum only) nor the small npm Mann-Whitney packages (normal
 * approximation only, no ties) give exact p-values, hence this file.
 */
import { errorFunction } from 'simple-statistics';

export interface MannWhitneyResult {
  /** U statistic of the first sample: pairs (x, y) with x > y, plus half the ties. */
  u: number;
  /** Two-sided p-value. 1 when either sample is empty or every value is tied. */
  p: number;
  method: 'exact' | 'normal';
}

const EXACT_LIMIT = 80;

/** Midranks (1-based) of the pooled values, in pooled order. Infinity ties with Infinity. */
export function midranks(pooled: readonly number[]): number[] {
  const order = pooled.map((v, i) => [v, i] as const).sort((a, b) => (a[0] === b[0] ? 0 : a[0] < b[0] ? -1 : 1));
  const ranks = new Array<number>(pooled.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = r;
    i = j + 1;
  }
  return ranks;
}

export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  for (const v of [...x, ...y]) if (Number.isNaN(v)) throw new RangeError('mannWhitney: NaN in a sample');
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1, method: 'exact' };
  const ranks = midranks([...x, ...y]);
  const r1 = ranks.slice(0, n1).reduce((a, b) => a + b, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  if (ranks.every((r) => r === ranks[0])) return { u, p: 1, method: 'exact' };
  if (n1 + n2 <= EXACT_LIMIT) return { u, p: exactP(ranks, n1, r1), method: 'exact' };
  return { u, p: normalP(ranks, n1, n2, u), method: 'normal' };
}

/** P(|R1 − E R1| ≥ |r1 − E R1|) under random assignment of the pooled ranks to the two samples. */
function exactP(ranks: number[], n1: number, r1: number): number {
  const doubled = ranks.map((r) => Math.round(r * 2));
  const maxSum = doubled.reduce((a, b) => a + b, 0);
  // ways[k][s]: subsets of size k of the ranks seen so far whose doubled sum is s. Counts reach
  // C(80, 40) ≈ 1e23, well inside float64's range; only their ratios are used.
  const ways: Float64Array[] = Array.from({ length: n1 + 1 }, () => new Float64Array(maxSum + 1));
  ways[0][0] = 1;
  let seen = 0;
  for (const d of doubled) {
    seen += d;
    for (let k = Math.min(n1, ways.length - 1); k >= 1; k--) {
      const from = ways[k - 1];
      const to = ways[k];
      for (let s = seen; s >= d; s--) if (from[s - d] !== 0) to[s] += from[s - d];
    }
  }
  const dist = ways[n1];
  const total = dist.reduce((a, b) => a + b, 0);
  const expected2 = n1 * (ranks.length + 1); // E[2·R1]
  const dev = Math.abs(Math.round(r1 * 2) - expected2);
  let tail = 0;
  for (let s = 0; s <= maxSum; s++) if (dist[s] !== 0 && Math.abs(s - expected2) >= dev - 1e-9) tail += dist[s];
  return Math.min(1, tail / total);
}

function normalP(ranks: number[], n1: number, n2: number, u: number): number {
  const n = n1 + n2;
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of counts.values()) tieTerm += t ** 3 - t;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = Math.max(0, Math.abs(u - (n1 * n2) / 2) - 0.5) / Math.sqrt(variance);
  // Two-sided normal tail 2·(1 − Φ(z)) = 1 − erf(z/√2); simple-statistics' Φ is a 2-decimal table.
  return Math.min(1, 1 - errorFunction(z / Math.SQRT2));
}
