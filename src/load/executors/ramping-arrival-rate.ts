/** ramping-arrival-rate (k6 lib/executor/ramping_arrival_rate.go): the rate moves linearly from stage to stage. */
import { show } from '../scenario-problems.ts';
import type { RampingArrivalRate, Stage } from '../types.ts';
import type { ArrivalRateExecutor } from './executor.ts';

/**
 * k6's `cal`: the n-th iteration (n from 1) starts where the integral of the linearly interpolated rate
 * reaches n. The fractional count owed by earlier stages is carried, so iterations do not restart at
 * stage boundaries; the first one lands one period after t = 0. Ends after the last stage (its last
 * time may equal the total length).
 */
export function* rampingArrivalTimes(startRate: number, timeUnit: number, stages: readonly Stage[]): Generator<number> {
  let from = startRate / timeUnit;
  let stageStart = 0;
  let carried = 0;
  let n = 1;
  for (const { duration: D, target } of stages) {
    const to = target / timeUnit;
    if (D > 0) {
      const area = (D * (from + to)) / 2;
      for (; n <= carried + area; n++) {
        const owed = n - carried;
        let x: number;
        if (from === to) x = owed / to;
        else {
          // Clamp as k6's noNegativeSqrt does: rounding can push the radicand a hair below zero.
          const radicand = Math.max(0, from * from + (2 * owed * (to - from)) / D);
          x = (D * (Math.sqrt(radicand) - from)) / (to - from);
        }
        yield stageStart + x;
      }
      carried += area;
      stageStart += D;
    }
    from = to;
  }
}

const stagesDuration = (stages: readonly Stage[]) => stages.reduce((a, st) => a + st.duration, 0);

export const rampingArrivalRate: ArrivalRateExecutor<RampingArrivalRate> = {
  name: 'ramping-arrival-rate',
  kind: 'arrival-rate',
  keys: ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
  read(f, common) {
    const startRate = f.int('startRate', { def: 0, min: 0 });
    const timeUnit = f.dur('timeUnit', { def: 1, positive: true });
    const stages = f.stages();
    const spec: RampingArrivalRate = { ...common, executor: 'ramping-arrival-rate', startRate, timeUnit, stages, ...f.pool() };
    if (stages.length > 0 && stagesDuration(stages) <= 0)
      f.problems.add({
        path: f.path('stages'),
        message: 'total stage duration is 0',
        expected: 'a positive total duration',
        found: show(f.raw.stages),
      });
    return spec;
  },
  times: (s) => rampingArrivalTimes(s.startRate, s.timeUnit, s.stages),
  peakRate: (s) => Math.max(s.startRate, ...s.stages.map((st) => st.target)) / s.timeUnit,
};
