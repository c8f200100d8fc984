/**
 * How the driver (../driver-core.ts) runs an arrival-rate scenario (constant- and ramping-arrival-rate):
 * open loop. Each due time from the executor's schedule takes a free slot (a VU) and starts an
 * iteration, or is dropped when none is free; nothing waits for responses.
 */
import type { LoadMetrics } from '../metrics.ts';
import type { ArrivalRateRun, ScenarioRun, VuState } from '../scenario-run.ts';

/** What the loops need of the driver. */
export interface IterationStarter {
  /** `iter`: the iteration's number in the record; by default the scenario's next. */
  startIteration(run: ScenarioRun, intendedMs: number, vu: VuState | undefined, iter?: number): void;
}

/** Moves to the next due time (performance.now() ms), Infinity after the last. */
export function advance(run: ArrivalRateRun): void {
  const r = run.gen!.next();
  run.nextDue = r.done ? Infinity : run.startAbs + r.value * 1000;
}

/** Fires every iteration due by `bound`. */
export function fireDue(run: ArrivalRateRun, bound: number, d: IterationStarter, metrics: LoadMetrics | undefined): void {
  while (run.nextDue <= bound) {
    fireArrival(run, run.nextDue, d, metrics);
    advance(run);
  }
}

/** Arrival-rate iterations are numbered by due index (dropped ones included), so records join with the plan. */
function fireArrival(run: ArrivalRateRun, due: number, d: IterationStarter, metrics: LoadMetrics | undefined): void {
  const slots = run.slots;
  run.dueSeq++;
  run.tick.target++;
  if (!slots.tryAcquire()) {
    run.counters.dropped++;
    run.tick.dropped++;
    metrics?.dropped.inc({ scenario: run.spec.name });
    return;
  }
  d.startIteration(run, due, undefined, run.dueSeq - 1);
}
