/**
 * How the driver (../driver-core.ts) runs a VU scenario (constant-vus, ramping-vus): closed loop. At
 * each step of the executor's schedule the VU count changes; each VU starts its next iteration as soon
 * as the last one ends. A VU that ramping-vus removes mid-test may finish its iteration within
 * gracefulRampDown, then it is cut.
 */
import { Interrupted } from '../request-errors.ts';
import type { VuRun, VuState } from '../scenario-run.ts';
import type { IterationStarter } from './arrival-rate-loop.ts';

/** Applies every VU step due by `bound`. */
export function applySteps(run: VuRun, bound: number, now: number, d: IterationStarter): void {
  while (run.stepIdx < run.steps.length && run.steps[run.stepIdx][0] <= bound) applyStep(run, now, d);
}

function applyStep(run: VuRun, now: number, d: IterationStarter): void {
  const [at, target] = run.steps[run.stepIdx++];
  const prev = run.targetVus;
  run.targetVus = target;
  if (target > run.counters.allocated) run.counters.allocated = target;
  for (let i = run.vus.length; i < target; i++) run.vus.push({ index: i });
  if (target > prev) {
    for (let i = prev; i < target; i++) {
      const vu = run.vus[i];
      if (vu.rampDownDeadline !== undefined) {
        vu.rampDownDeadline = undefined;
        run.rampDownsPending--;
      }
      if (!vu.it && now < run.regularEnd) d.startIteration(run, Math.max(at, now), vu);
    }
  } else if (target < prev && at < run.regularEnd && run.spec.executor === 'ramping-vus') {
    for (let i = target; i < prev; i++) {
      const vu = run.vus[i];
      if (vu.it) {
        vu.rampDownDeadline = at + run.spec.gracefulRampDown * 1000;
        run.rampDownsPending++;
      }
    }
  }
}

/** `vu` ended an iteration at `now`: it starts the next one if it is still wanted and the run goes on. */
export function vuIterationDone(run: VuRun, vu: VuState, now: number, goOn: boolean, d: IterationStarter): void {
  vu.it = undefined;
  if (vu.rampDownDeadline !== undefined) {
    vu.rampDownDeadline = undefined;
    run.rampDownsPending--;
  }
  if (goOn && vu.index < run.targetVus && now < run.regularEnd) d.startIteration(run, now, vu);
}

/** Cuts the iterations of removed VUs whose gracefulRampDown has ended. */
export function cutRampedDown(run: VuRun, now: number): void {
  for (const vu of run.vus) {
    if (vu.rampDownDeadline !== undefined && now >= vu.rampDownDeadline && vu.it?.current && !vu.it.current.done) {
      vu.it.current.cut(new Interrupted('gracefulRampDown ended', 'gracefulRampDown'));
    }
  }
}
