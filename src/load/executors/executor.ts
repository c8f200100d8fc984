/**
 * What an executor of the fast path is, along k6's lib/executor lines: its config fields and their
 * rules (k6's `*Config.Validate`), its schedule (k6's execution steps, pure maths, no clocks), and the
 * few figures the driver sizes itself by. Two kinds run differently (driver-core.ts): arrival-rate
 * executors start iterations on due times from a pool of slots (open loop), VU executors keep a number
 * of VUs busy, each starting its next iteration when the last one ends (closed loop).
 *
 * To add an executor: a file here exporting one of these, a line in registry.ts; outside this folder
 * its spec in ../types.ts (interface, ScenarioSpec, SUPPORTED_EXECUTORS, scenarioDuration) and its
 * duration fields in SCENARIO_DURATION_KEYS (../../experiment/time-scale.ts). The VU runtime (../vu/) has its own executors for scripts with logic.
 */
import type { ScenarioFields } from './scenario-fields.ts';
import type { ArrivalRateSpec, ScenarioSpec } from '../types.ts';

/** The fields every scenario has, read before the executor's own. */
export type CommonFields = Pick<ScenarioSpec, 'name' | 'startTime' | 'gracefulStop' | 'exec' | 'env' | 'requests'>;

interface ExecutorBase<S extends ScenarioSpec> {
  readonly name: S['executor'];
  /** Config fields beyond the common ones (k6 rejects any other). */
  readonly keys: readonly string[];
  /** Reads and checks the executor's own fields; problems go to `f.problems`. */
  read(f: ScenarioFields, common: CommonFields): S;
}

export interface ArrivalRateExecutor<S extends ArrivalRateSpec> extends ExecutorBase<S> {
  readonly kind: 'arrival-rate';
  /** Due times, s from the scenario's start, possibly past its end (schedule.ts cuts them there). */
  times(s: S): Generator<number>;
  /** Highest iteration rate the scenario asks for, per second. */
  peakRate(s: S): number;
}

export interface VuExecutor<S extends Exclude<ScenarioSpec, ArrivalRateSpec>> extends ExecutorBase<S> {
  readonly kind: 'vus';
  /** [s from the scenario's start, VU count] whenever the count changes, ending with [duration, 0]. */
  steps(s: S): Array<[number, number]>;
  /** Most VUs the scenario runs at once. */
  peakVus(s: S): number;
}
