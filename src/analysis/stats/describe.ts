/**
 * Location and spread of one figure across repeated runs: what `--repeat N` prints and what the
 * bands in the repeat figures are drawn from.
 *
 * The 95 % interval is Student's t interval of the mean. With five repeats it is wide (t = 2.78),
 * which is the honest answer; a normal interval would claim precision five runs do not have.
 */
import { mean, median, min, max, sampleStandardDeviation } from 'simple-statistics';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface Description {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  sd: number;
  /** 95 % confidence interval of the mean; [mean, mean] for a single value (no spread is known). */
  ci95: [number, number];
  /** Coefficient of variation sd / |mean|; null when the mean is 0. */
  cv: number | null;
  median: number;
  min: number;
  max: number;
}

/** Describe finite values. Returns null for an empty list: there is nothing to describe. */
export function describe(values: readonly number[]): Description | null {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return null;
  const m = mean(xs);
  const sd = xs.length > 1 ? sampleStandardDeviation(xs) : 0;
  const half = xs.length > 1 ? tQuantile(0.975, xs.length - 1) * (sd / Math.sqrt(xs.length)) : 0;
  return {
    n: xs.length,
    mean: m,
    sd,
    ci95: [m - half, m + half],
    cv: m === 0 ? null : sd / Math.abs(m),
    median: median(xs),
    min: min(xs),
    max: max(xs),
  };
}
