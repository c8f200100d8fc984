/**
 * shared-iterations and per-vu-iterations in virtual time (k6 lib/executor/shared_iterations.go,
 * per_vu_iterations.go): the rule the VU runtime's executor follows (vu/executors.ts), with iteration
 * durations given by the caller and no clock. A VU starts its next iteration the moment its previous
 * one ends, as long as the regular deadline (maxDuration) has not passed and work is left (a shared
 * counter, or the VU's own count); iterations still running at maxDuration + gracefulStop are
 * interrupted; iterations never started are reported as dropped_iterations, as k6 does.
 */
import type { IterationsSpec } from './types.ts';

export interface IterationsResult {
  started: number;
  completed: number;
  interrupted: number;
  dropped: number;
  /** Full iterations per VU (index 0 = the first VU). */
  perVu: number[];
}

/** `iterationSeconds(vu, k)`: how long VU `vu`'s k-th iteration (both from 0) runs; Infinity = until cut. */
export function simulateIterations(spec: IterationsSpec, iterationSeconds: (vu: number, k: number) => number): IterationsResult {
  const end = spec.maxDuration;
  const hardEnd = end + spec.gracefulStop;
  const free = new Array<number>(spec.vus).fill(0);
  const own = new Array<number>(spec.vus).fill(0);
  const perVu = new Array<number>(spec.vus).fill(0);
  let started = 0,
    completed = 0,
    interrupted = 0,
    shared = 0;
  for (;;) {
    // The VU that is free first takes the next iteration (ties: the lower VU, as they loop in order).
    let vu = -1;
    for (let i = 0; i < spec.vus; i++) {
      const hasWork = spec.executor === 'shared-iterations' ? shared < spec.iterations : own[i] < spec.iterations;
      if (hasWork && free[i] < end && (vu < 0 || free[i] < free[vu])) vu = i;
    }
    if (vu < 0) break;
    const t = free[vu];
    const d = iterationSeconds(vu, own[vu]);
    own[vu]++;
    shared++;
    started++;
    if (t + d <= hardEnd) {
      completed++;
      perVu[vu]++;
      free[vu] = t + d;
    } else {
      interrupted++;
      free[vu] = Infinity;
    }
  }
  const planned = spec.executor === 'shared-iterations' ? spec.iterations : spec.iterations * spec.vus;
  return { started, completed, interrupted, dropped: planned - started, perVu };
}
