/**
 * Fine-grained per-bucket counts and sliding-window crossings: the machinery behind "redirect onset",
 * "redirect end" and "recovery". A window decides that a crossing happened (robust to one odd
 * request); the reported instant is then walked back to the first request of the run of buckets
 * that already looked like the new state, so the time is as sharp as the data allows.
 */
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';

export interface FineBuckets {
  stepS: number;
  /** Run time of bucket 0's start. */
  t0: number;
  n: number;
  a: Int32Array;
  b: Int32Array;
  ok: Int32Array;
  total: Int32Array;
  /** Earliest send time in the bucket of a request served by A / by B / answered OK (NaN if none). */
  firstA: Float64Array;
  firstB: Float64Array;
  firstOk: Float64Array;
  /** Latest send time in the bucket of a request served by A / by B. */
  lastA: Float64Array;
  lastB: Float64Array;
}

export function fineBuckets(times: Float64Array, dest: Uint8Array, outcome: Uint8Array | undefined, n: number, stepS: number): FineBuckets {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (times[i] < lo) lo = times[i];
    if (times[i] > hi) hi = times[i];
  }
  const first = Number.isFinite(lo) ? Math.floor(lo / stepS) : 0;
  const nb = Number.isFinite(lo) ? Math.floor(hi / stepS) - first + 1 : 0;
  const fb: FineBuckets = {
    stepS,
    t0: first * stepS,
    n: nb,
    a: new Int32Array(nb),
    b: new Int32Array(nb),
    ok: new Int32Array(nb),
    total: new Int32Array(nb),
    firstA: new Float64Array(nb).fill(NaN),
    firstB: new Float64Array(nb).fill(NaN),
    firstOk: new Float64Array(nb).fill(NaN),
    lastA: new Float64Array(nb).fill(NaN),
    lastB: new Float64Array(nb).fill(NaN),
  };
  const earliest = (arr: Float64Array, k: number, t: number) => {
    if (!(arr[k] <= t)) arr[k] = t;
  };
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const k = Math.floor(t / stepS) - first;
    fb.total[k]++;
    if (dest[i] === DEST.A) {
      fb.a[k]++;
      earliest(fb.firstA, k, t);
      if (!(fb.lastA[k] >= t)) fb.lastA[k] = t;
    } else if (dest[i] === DEST.B) {
      fb.b[k]++;
      earliest(fb.firstB, k, t);
      if (!(fb.lastB[k] >= t)) fb.lastB[k] = t;
    }
    if (!outcome || outcome[i] === OUTCOME.ok) {
      fb.ok[k]++;
      earliest(fb.firstOk, k, t);
    }
  }
  return fb;
}

export const fineFromRequests = (r: RequestColumns, stepS: number) => fineBuckets(r.sent, r.dest, r.outcome, r.n, stepS);

interface Sums {
  a: number;
  b: number;
  ok: number;
  total: number;
}

/**
 * First bucket index ≥ from whose trailing window satisfies `pred` (ignoring windows with fewer than
 * minCount requests), and the earliest bucket j ≤ i such that every non-empty bucket in j..i satisfies
 * `pred` on its own: the start of the new state.
 */
export function firstCrossing(
  fb: FineBuckets,
  from: number,
  windowS: number,
  minCount: number,
  pred: (s: Sums) => boolean,
): { i: number; j: number } | undefined {
  const w = Math.max(1, Math.round(windowS / fb.stepS));
  const s: Sums = { a: 0, b: 0, ok: 0, total: 0 };
  const lo0 = Math.max(0, from - w + 1);
  for (let k = lo0; k < from; k++) add(s, fb, k, 1);
  for (let i = from; i < fb.n; i++) {
    add(s, fb, i, 1);
    if (i - w >= lo0) add(s, fb, i - w, -1);
    if (s.total < minCount || !pred(s)) continue;
    let j = i;
    for (let k = i; k >= Math.max(from, i - w + 1); k--) {
      if (fb.total[k] === 0) continue;
      if (!pred({ a: fb.a[k], b: fb.b[k], ok: fb.ok[k], total: fb.total[k] })) break;
      j = k;
    }
    return { i, j };
  }
  return undefined;
}

function add(s: Sums, fb: FineBuckets, k: number, sign: number): void {
  s.a += sign * fb.a[k];
  s.b += sign * fb.b[k];
  s.ok += sign * fb.ok[k];
  s.total += sign * fb.total[k];
}

export const bucketIndex = (fb: FineBuckets, t: number) => Math.floor((t - fb.t0) / fb.stepS + 1e-9);

/** Requests sent per second in [t − 1 s, t), from the fine buckets. */
export function achievedAt(fb: FineBuckets, t: number): number {
  const hi = bucketIndex(fb, t);
  const lo = bucketIndex(fb, t - 1);
  let c = 0;
  for (let k = Math.max(0, lo); k < Math.min(fb.n, hi); k++) c += fb.total[k];
  return c / ((Math.min(fb.n, hi) - Math.max(0, lo)) * fb.stepS || 1);
}

/**
 * The instant traffic switched to `to`, given the first bucket j that is wholly in the new state: if
 * the bucket before it holds a clean switch (every request to the old side precedes every request to
 * the new side), the switch happened inside it, at its first request to the new side.
 */
export function switchTime(fb: FineBuckets, j: number, to: 'A' | 'B'): number {
  const first = to === 'A' ? fb.firstA : fb.firstB;
  const lastOld = to === 'A' ? fb.lastB : fb.lastA;
  let k = j - 1;
  while (k >= 0 && fb.total[k] === 0) k--;
  if (k >= 0 && first[k] > lastOld[k]) return first[k];
  return Number.isNaN(first[j]) ? fb.t0 + j * fb.stepS : first[j];
}
