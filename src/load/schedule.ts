/**
 * k6's executor maths, pure (no clocks): when each iteration of an arrival-rate scenario is due, and
 * when a VU-based scenario changes its VU count. Source: grafana/k6 `lib/executor/*.go`, summarised in
 * shared/facts/k6-semantics.md §1. Times are seconds from the start of the whole test (startTime
 * included), so the same numbers drive `--plan`, the live scheduler and the tests.
 */
import { isArrivalRate, scenarioDuration, type Scenario, type ScenarioSpec, type Stage } from './types.ts';

/** constant-arrival-rate: iteration k (from 0) at k·timeUnit/rate — the first one at t = 0. Unbounded. */
export function* constantArrivalTimes(rate: number, timeUnit: number): Generator<number> {
  const period = timeUnit / rate;
  for (let k = 0; ; k++) yield k * period;
}

/**
 * ramping-arrival-rate (k6's `cal`): the n-th iteration (n from 1) starts where the integral of the
 * linearly interpolated rate reaches n. The fractional count owed by earlier stages is carried, so
 * iterations do not restart at stage boundaries; the first one lands one period after t = 0.
 * Ends after the last stage (its last time may equal the total length).
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

/**
 * Due times of an arrival-rate scenario relative to its own start, up to (not including) its regular
 * deadline: k6 starts nothing once the deadline has passed; an iteration due exactly at it races the
 * deadline in k6, and we resolve the race as "not started".
 */
export function* arrivalTimes(s: ScenarioSpec): Generator<number> {
  if (!isArrivalRate(s)) return;
  const end = scenarioDuration(s);
  const gen =
    s.executor === 'constant-arrival-rate'
      ? constantArrivalTimes(s.rate, s.timeUnit)
      : rampingArrivalTimes(s.startRate, s.timeUnit, s.stages);
  for (const t of gen) {
    if (t >= end) return;
    yield t;
  }
}

/**
 * VU-count steps of a VU-based scenario, relative to its start: [time, vus] whenever the count changes,
 * ending with [duration, 0]. ramping-vus follows k6's getRawExecutionSteps: the count becomes k where
 * the straight line between stage targets crosses k (floor while ramping up, ceiling while ramping down).
 */
export function vuSteps(s: ScenarioSpec): Array<[number, number]> {
  if (s.executor === 'constant-vus')
    return [
      [0, s.vus],
      [s.duration, 0],
    ];
  if (s.executor !== 'ramping-vus') return [];
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

export interface PlannedScenario {
  scenario: string;
  executor: ScenarioSpec['executor'];
  /** Iteration due times, seconds from the start of the test (arrival-rate executors). */
  times: number[];
  /** VU-count changes, seconds from the start of the test (VU executors; closed loop, no due times). */
  vus?: Array<[number, number]>;
}

/** The whole plan: per scenario, every iteration's due time (or the VU steps for VU executors). */
export function planSchedule(scenario: Scenario): PlannedScenario[] {
  return scenario.scenarios.map((s) => {
    if (isArrivalRate(s)) {
      const times: number[] = [];
      for (const t of arrivalTimes(s)) times.push(s.startTime + t);
      return { scenario: s.name, executor: s.executor, times };
    }
    return { scenario: s.name, executor: s.executor, times: [], vus: vuSteps(s).map(([t, v]) => [s.startTime + t, v] as [number, number]) };
  });
}
