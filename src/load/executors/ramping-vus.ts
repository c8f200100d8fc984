/**
 * ramping-vus (k6 lib/executor/ramping_vus.go): the VU count moves linearly from stage to stage; a VU
 * removed mid-test may finish its iteration within gracefulRampDown, then it is cut (driver-core.ts).
 */
import type { RampingVus } from '../types.ts';
import type { VuExecutor } from './executor.ts';

/**
 * k6's getRawExecutionSteps: the count becomes k where the straight line between stage targets crosses
 * k (floor while ramping up, ceiling while ramping down).
 */
function rampingVuSteps(s: RampingVus): Array<[number, number]> {
  const steps: Array<[number, number]> = [[0, s.startVUs]];
  const push = (t: number, v: number) => {
    const last = steps[steps.length - 1];
    if (last[0] === t) last[1] = v;
    else if (last[1] !== v) steps.push([t, v]);
  };
  let start = 0;
  let from = s.startVUs;
  for (const { duration: D, target: to } of s.stages) {
    if (D === 0 || from === to) push(start + (D === 0 ? 0 : D), to);
    else if (to > from) for (let k = from + 1; k <= to; k++) push(start + (D * (k - from)) / (to - from), k);
    else for (let k = from - 1; k >= to; k--) push(start + (D * (from - k)) / (from - to), k);
    start += D;
    from = to;
  }
  push(start, 0);
  return steps;
}

export const rampingVus: VuExecutor<RampingVus> = {
  name: 'ramping-vus',
  kind: 'vus',
  keys: ['startVUs', 'stages', 'gracefulRampDown'],
  read(f, common) {
    const startVUs = f.int('startVUs', { def: 1, min: 0 });
    const stages = f.stages();
    const gracefulRampDown = f.dur('gracefulRampDown', { def: 30 });
    if (stages.length > 0 && startVUs === 0 && stages.every((s) => s.target === 0))
      f.problems.add({
        path: f.path('stages'),
        message: 'every stage target and startVUs are 0: no VU would ever run',
        expected: 'at least one positive target',
      });
    return { ...common, executor: 'ramping-vus', startVUs, stages, gracefulRampDown };
  },
  steps: rampingVuSteps,
  peakVus: (s) => Math.max(s.startVUs, ...s.stages.map((st) => st.target)),
};
