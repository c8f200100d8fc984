/**
 * The arrival-rate executors in virtual time: the same due times and the same {@link SlotPool} rule
 * the live driver uses, with iteration durations given by the caller and no clock. It answers "how
 * many iterations would start, drop, finish or be cut" exactly, which is what k6's own executor tests
 * assert, and lets the dropping logic be tested without timing noise.
 *
 * Ordering at one instant matches the driver's scheduler turn: iterations ending at or before a due
 * time free their slot first; a pending pool growth completes at the next turn (the next due time).
 */
import { arrivalTimes } from './schedule.ts';
import { SlotPool } from './slot-pool.ts';
import { scenarioDuration, type ArrivalRateSpec } from './types.ts';

export interface SimulationResult {
  due: number;
  started: number;
  dropped: number;
  /** Iterations that finished before the hard deadline (duration + gracefulStop). */
  completed: number;
  /** Iterations still running at the hard deadline. */
  interrupted: number;
  /** Most iterations running at once, and slots allocated at the end. */
  maxActive: number;
  allocated: number;
  /** Whether k6 would have logged "Insufficient VUs, reached N active VUs and cannot initialize more". */
  insufficientVUs: boolean;
  /** Start time (seconds from scenario start) of each started iteration. */
  startTimes: number[];
}

/** `iterationSeconds(k)` = how long the k-th started iteration runs (Infinity = until cut). */
export function simulateArrivalRate(spec: ArrivalRateSpec, iterationSeconds: (k: number) => number): SimulationResult {
  const pool = new SlotPool(spec.preAllocatedVUs, spec.maxVUs);
  const hardEnd = scenarioDuration(spec) + spec.gracefulStop;
  const ends: number[] = [];
  const startTimes: number[] = [];
  let due = 0,
    completed = 0,
    maxActive = 0;
  const releaseUpTo = (t: number) => {
    for (let i = ends.length - 1; i >= 0; i--) {
      if (ends[i] <= t) {
        if (ends[i] <= hardEnd) completed++;
        ends.splice(i, 1);
        pool.release();
      }
    }
  };
  for (const t of arrivalTimes(spec)) {
    due++;
    releaseUpTo(t);
    pool.completeGrowth();
    if (pool.tryAcquire()) {
      ends.push(t + iterationSeconds(startTimes.length));
      startTimes.push(t);
      maxActive = Math.max(maxActive, pool.busy);
    }
  }
  releaseUpTo(hardEnd);
  return {
    due,
    started: startTimes.length,
    dropped: pool.dropped,
    completed,
    interrupted: ends.length,
    maxActive,
    allocated: pool.allocated,
    insufficientVUs: pool.exhaustedWarning,
    startTimes,
  };
}
