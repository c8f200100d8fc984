/**
 * When the driver's next turn is due (performance.now() ms): the next due iteration, VU step, regular
 * end, gracefulStop hard cut or ramp-down deadline of any scenario, or the next tick, whichever comes
 * first; while requests are in flight, also the oldest one's timeout and at most 50 ms (the end-of-run
 * check). Pure: the scheduler (scheduler.ts) decides how to wait for it.
 */
import type { ScenarioRun } from './scenario-run.ts';

/** Earliest due arrival-rate iteration, or Infinity. */
export function earliestDue(runs: readonly ScenarioRun[]): number {
  let nextDue = Infinity;
  for (const run of runs) if (run.slots && run.nextDue < nextDue) nextDue = run.nextDue;
  return nextDue;
}

/** The next scenario event, no later than `next`. */
export function runsNextEvent(runs: readonly ScenarioRun[], now: number, next: number): number {
  for (const run of runs) {
    if (run.nextDue < next) next = run.nextDue;
    if (run.steps && run.stepIdx < run.steps.length && run.steps[run.stepIdx][0] < next) next = run.steps[run.stepIdx][0];
    if (!run.hardCutDone && run.hardEnd < next && run.inflightIterations > 0) next = run.hardEnd;
    if (now < run.regularEnd && run.regularEnd < next) next = run.regularEnd;
    if (run.slots?.growthPending) next = now;
    if (run.rampDownsPending > 0) {
      for (const vu of run.vus) if (vu.rampDownDeadline !== undefined && vu.rampDownDeadline < next) next = vu.rampDownDeadline;
    }
  }
  return next;
}

/** In-flight requests need the timeout sweep (due when the oldest one expires) and the end-of-run check. */
export function withInflight(next: number, now: number, oldestSentMs: number | undefined, timeoutMs: number): number {
  if (oldestSentMs === undefined) return next;
  const oldestExpiry = oldestSentMs + timeoutMs;
  if (oldestExpiry < next) next = oldestExpiry;
  if (next > now + 50) next = now + 50;
  return next;
}
