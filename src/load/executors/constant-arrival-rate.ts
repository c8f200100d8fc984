/** constant-arrival-rate (k6 lib/executor/constant_arrival_rate.go): `rate` iterations per `timeUnit` for `duration`. */
import type { ConstantArrivalRate } from '../types.ts';
import type { ArrivalRateExecutor } from './executor.ts';

/** Iteration k (from 0) at k·timeUnit/rate — the first one at t = 0. Unbounded. */
export function* constantArrivalTimes(rate: number, timeUnit: number): Generator<number> {
  const period = timeUnit / rate;
  for (let k = 0; ; k++) yield k * period;
}

export const constantArrivalRate: ArrivalRateExecutor<ConstantArrivalRate> = {
  name: 'constant-arrival-rate',
  kind: 'arrival-rate',
  keys: ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  read(f, common) {
    const rate = f.int('rate', { min: 1 });
    const timeUnit = f.dur('timeUnit', { def: 1, positive: true });
    const duration = f.dur('duration', { min: 1 });
    return { ...common, executor: 'constant-arrival-rate', rate, timeUnit, duration, ...f.pool() };
  },
  times: (s) => constantArrivalTimes(s.rate, s.timeUnit),
  peakRate: (s) => s.rate / s.timeUnit,
};
