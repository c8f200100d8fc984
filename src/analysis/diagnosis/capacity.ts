/**
 * What the capacity model and the scenario's peak imply for the pools, by Little's law (L = λ·W):
 * at offered rate λ and mean service time W, A holds λ·W requests on average; A can serve at most
 * concurrency / W per second, beyond which its queue fills and it refuses (503). A circuit breaker whose
 * in-flight limit is below what the offered load needs overflows; with arrivals at random, a limit of
 * k in flight refuses a share of requests given by Erlang's loss formula B(k, λ·W) even below the mean.
 */
import { parseDurationMs } from '../../util/duration.ts';

/** Standard normal quantile at 0.99, for (median, p99) → lognormal sigma. */
const Z99 = 2.3263478740408408;

export interface ServiceTimeInput {
  distribution: string;
  value?: string;
  mean?: string;
  median?: string;
  p99?: string;
}

/** Mean service time in ms of the capacity model's distribution. */
export function meanServiceMs(st: ServiceTimeInput): number | null {
  try {
    if (st.distribution === 'fixed' && st.value) return parseDurationMs(st.value);
    if (st.distribution === 'exponential' && st.mean) return parseDurationMs(st.mean);
    if (st.distribution === 'lognormal' && st.median && st.p99) {
      const m = parseDurationMs(st.median);
      const sigma = Math.log(parseDurationMs(st.p99) / m) / Z99;
      return m * Math.exp((sigma * sigma) / 2);
    }
  } catch {
    return null;
  }
  return null;
}

/** Erlang B: the share of Poisson arrivals that find all k servers busy at offered traffic a = λ·W. */
export function erlangB(k: number, a: number): number {
  let b = 1;
  for (let i = 1; i <= k; i++) b = (a * b) / (i + a * b);
  return b;
}

export interface CapacityPrediction {
  peakRps: number;
  meanServiceMs: number;
  /** λ·W at the peak, if A kept up: the requests in flight to A on average. */
  inFlightAtPeak: number;
  /** concurrency / W: the most A can serve per second. */
  aMaxRps: number;
  /** Offered load above which A refuses (queue full), or null if the peak stays below it. */
  aSaturatesAboveRps: number | null;
  /** A's slots + queue: the most requests A holds before refusing. */
  aHolds: number;
}

export function predictCapacity(peakRps: number, concurrency: number, queue: number, st: ServiceTimeInput): CapacityPrediction | null {
  const w = meanServiceMs(st);
  if (w === null || !(w > 0) || !(peakRps > 0)) return null;
  const aMax = (concurrency * 1000) / w;
  return {
    peakRps,
    meanServiceMs: Math.round(w * 10) / 10,
    inFlightAtPeak: Math.round(((peakRps * w) / 1000) * 100) / 100,
    aMaxRps: Math.round(aMax),
    aSaturatesAboveRps: peakRps > aMax ? Math.round(aMax) : null,
    aHolds: concurrency + queue,
  };
}

/** The lowest rate at which an in-flight limit k refuses more than `share` of requests (Erlang B), by bisection. */
export function rateForLoss(k: number, wMs: number, share: number): number {
  let lo = 0;
  let hi = 1e6;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (erlangB(k, (mid * wMs) / 1000) > share) hi = mid;
    else lo = mid;
  }
  return hi < 10 ? Math.round(hi * 10) / 10 : Math.round(hi);
}
