/**
 * The typed form of a k6 scenario file as the embedded driver honours it. All times are seconds,
 * already multiplied by the run's time scale (see scenario.ts); rates are per `timeUnit` seconds.
 */

/** One HTTP request an iteration makes, from the script's exported `requests` (plain data). */
export interface RequestSpec {
  method: string;
  url: string;
  body?: string | null;
  headers?: Record<string, string>;
}

export interface Stage {
  duration: number;
  target: number;
}

interface ScenarioBase {
  name: string;
  startTime: number;
  gracefulStop: number;
  /** Exported function each iteration runs (checked against `requests` when loading). */
  exec: string;
  env: Record<string, string>;
  /** Requests one iteration makes, in order (plain-data fast path; empty for scripts run by the VU runtime). */
  requests: RequestSpec[];
  /** Scenario tags (k6 `tags`), added to every sample of the scenario (VU runtime). */
  tags?: Record<string, string>;
}

export interface ConstantArrivalRate extends ScenarioBase {
  executor: 'constant-arrival-rate';
  rate: number;
  timeUnit: number;
  duration: number;
  preAllocatedVUs: number;
  maxVUs: number;
}

export interface RampingArrivalRate extends ScenarioBase {
  executor: 'ramping-arrival-rate';
  startRate: number;
  timeUnit: number;
  stages: Stage[];
  preAllocatedVUs: number;
  maxVUs: number;
}

export interface ConstantVus extends ScenarioBase {
  executor: 'constant-vus';
  vus: number;
  duration: number;
}

export interface RampingVus extends ScenarioBase {
  executor: 'ramping-vus';
  startVUs: number;
  stages: Stage[];
  gracefulRampDown: number;
}

/** shared-iterations: `iterations` in total, shared by `vus` VUs, stopped at maxDuration (VU runtime only). */
export interface SharedIterations extends ScenarioBase {
  executor: 'shared-iterations';
  vus: number;
  iterations: number;
  maxDuration: number;
}

/** per-vu-iterations: each of `vus` VUs runs `iterations` iterations, stopped at maxDuration (VU runtime only). */
export interface PerVuIterations extends ScenarioBase {
  executor: 'per-vu-iterations';
  vus: number;
  iterations: number;
  maxDuration: number;
}

export type ScenarioSpec = ConstantArrivalRate | RampingArrivalRate | ConstantVus | RampingVus | SharedIterations | PerVuIterations;
export type IterationsSpec = SharedIterations | PerVuIterations;
export type ArrivalRateSpec = ConstantArrivalRate | RampingArrivalRate;

export const SUPPORTED_EXECUTORS = ['constant-arrival-rate', 'ramping-arrival-rate', 'constant-vus', 'ramping-vus'] as const;

/** A whole scenario file: every scenario it defines, sorted the way k6 starts them (startTime, name). */
export interface Scenario {
  /** Script path, for messages and the manifest; absent for scenarios built from CLI flags. */
  file?: string;
  timeScale: number;
  scenarios: ScenarioSpec[];
  /** Options that do not change the load but that the embedded driver does not act on (e.g. thresholds). */
  warnings: string[];
  /**
   * Present when the script runs in the k6-compatible VU runtime (src/load/vu/) rather than the
   * plain-data fast path. Plain data, so it crosses to the driver thread.
   */
  vu?: import('./vu/vu-program.ts').VuProgram;
}

export const isArrivalRate = (s: ScenarioSpec): s is ArrivalRateSpec =>
  s.executor === 'constant-arrival-rate' || s.executor === 'ramping-arrival-rate';

/** Length of the regular (no-new-iterations-after) period, excluding startTime and gracefulStop. */
export function scenarioDuration(s: ScenarioSpec): number {
  if (s.executor === 'constant-arrival-rate' || s.executor === 'constant-vus') return s.duration;
  if (s.executor === 'shared-iterations' || s.executor === 'per-vu-iterations') return s.maxDuration;
  return s.stages.reduce((a, st) => a + st.duration, 0);
}

/** When the whole run is over at the latest: max over scenarios of startTime + duration + gracefulStop. */
export function totalDuration(sc: Scenario): number {
  let end = 0;
  for (const s of sc.scenarios) {
    end = Math.max(end, s.startTime + scenarioDuration(s) + s.gracefulStop);
  }
  return end;
}
