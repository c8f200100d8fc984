/**
 * The executors the fast path implements, by k6 name. A table: adding an executor adds a line here
 * (see executor.ts). Executors the fast path does not implement (shared-iterations, per-vu-iterations,
 * externally-controlled) send the script to the VU runtime (../vu/executors.ts) or to k6.
 */
import type { ArrivalRateSpec, ScenarioSpec } from '../types.ts';
import { constantArrivalRate } from './constant-arrival-rate.ts';
import { constantVus } from './constant-vus.ts';
import type { ArrivalRateExecutor, VuExecutor } from './executor.ts';
import { rampingArrivalRate } from './ramping-arrival-rate.ts';
import { rampingVus } from './ramping-vus.ts';

type VuSpec = Exclude<ScenarioSpec, ArrivalRateSpec>;
export type FastExecutor = ArrivalRateExecutor<ArrivalRateSpec> | VuExecutor<VuSpec>;

export const FAST_EXECUTORS: Readonly<Record<string, FastExecutor>> = Object.freeze({
  'constant-arrival-rate': constantArrivalRate as ArrivalRateExecutor<ArrivalRateSpec>,
  'ramping-arrival-rate': rampingArrivalRate as ArrivalRateExecutor<ArrivalRateSpec>,
  'constant-vus': constantVus as VuExecutor<VuSpec>,
  'ramping-vus': rampingVus as VuExecutor<VuSpec>,
});

/** The fast-path executor of `name`, or undefined (also for names like "constructor"). */
export function fastExecutor(name: unknown): FastExecutor | undefined {
  return typeof name === 'string' && Object.hasOwn(FAST_EXECUTORS, name) ? FAST_EXECUTORS[name] : undefined;
}

export function arrivalRateExecutor(s: ArrivalRateSpec): ArrivalRateExecutor<ArrivalRateSpec> {
  return FAST_EXECUTORS[s.executor] as ArrivalRateExecutor<ArrivalRateSpec>;
}

/** undefined for the VU-runtime-only executors (shared-iterations, per-vu-iterations). */
export function vuExecutor(s: VuSpec): VuExecutor<VuSpec> | undefined {
  const e = fastExecutor(s.executor);
  return e?.kind === 'vus' ? e : undefined;
}

/** Most VUs a VU-based scenario runs at once. */
export function peakVus(s: VuSpec): number {
  return vuExecutor(s)?.peakVus(s) ?? ('vus' in s ? s.vus : 1);
}

/** Highest iteration rate an arrival-rate scenario asks for, per second. */
export const peakRate = (s: ArrivalRateSpec): number => arrivalRateExecutor(s).peakRate(s);

/** Slots a scenario needs when the run starts: its pre-allocated VUs (arrival-rate) or its peak VUs. */
export function initialSlots(s: ScenarioSpec): number {
  return s.executor === 'constant-arrival-rate' || s.executor === 'ramping-arrival-rate' ? s.preAllocatedVUs : peakVus(s);
}
