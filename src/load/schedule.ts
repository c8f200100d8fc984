/**
 * k6's executor maths, pure (no clocks): when each iteration of an arrival-rate scenario is due, and
 * when a VU-based scenario changes its VU count. Source: grafana/k6 `lib/executor/*.go`, summarised in
 * shared/facts/k6-semantics.md §1; each executor's maths is in its file under executors/. Times are seconds from the start of the whole test (startTime
 * included), so the same numbers drive `--plan`, the live scheduler and the tests.
 */
import { arrivalRateExecutor, vuExecutor } from './executors/registry.ts';
import { isArrivalRate, scenarioDuration, type Scenario, type ScenarioSpec } from './types.ts';

export { constantArrivalTimes } from './executors/constant-arrival-rate.ts';
export { rampingArrivalTimes } from './executors/ramping-arrival-rate.ts';

/**
 * Due times of an arrival-rate scenario relative to its own start, up to (not including) its regular
 * deadline: k6 starts nothing once the deadline has passed; an iteration due exactly at it races the
 * deadline in k6, and we resolve the race as "not started".
 */
export function* arrivalTimes(s: ScenarioSpec): Generator<number> {
  if (!isArrivalRate(s)) return;
  const end = scenarioDuration(s);
  for (const t of arrivalRateExecutor(s).times(s)) {
    if (t >= end) return;
    yield t;
  }
}

/**
 * VU-count steps of a VU-based scenario, relative to its start: [time, vus] whenever the count changes,
 * ending with [duration, 0] (see the executor's file); none for executors the fast path does not run.
 */
export function vuSteps(s: ScenarioSpec): Array<[number, number]> {
  return isArrivalRate(s) ? [] : (vuExecutor(s)?.steps(s) ?? []);
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
