/**
 * Percentiles exactly as k6 computes them for Trend metrics (`metrics/sink.go TrendSink.P`): every
 * value kept, sorted ascending, linear interpolation at index p·(n−1). Using the same rule is what lets
 * our figures be compared number for number with a k6 run's summary and thresholds.
 */

/** `sorted` must be ascending; `p` is a fraction in [0, 1] (k6's `p(95)` is 0.95). 0 for no values. */
export function k6Percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile must be a fraction in [0, 1], got ${p}`);
  const n = sorted.length;
  if (n === 0) return 0;
  if (n === 1) return sorted[0];
  const i = p * (n - 1);
  const lo = sorted[Math.floor(i)];
  const hi = sorted[Math.ceil(i)];
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** Sorts a copy numerically (not lexically, the default of Array#sort) and applies {@link k6Percentile}. */
export function k6PercentileOf(values: Iterable<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return k6Percentile(sorted, p);
}
