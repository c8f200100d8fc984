/**
 * k6's percentile: linear interpolation at p·(n−1) over sorted values, so our numbers match k6's
 * end-of-test summary. Private stand-in until the load driver's `src/load/percentile.ts` lands; it
 * computes the same thing and this file should then re-export it.
 */
export function k6Percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = p * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
