/**
 * The fast path's state of one scenario while it runs, and of its iterations and VUs. A scenario run
 * is a discriminated union on `slots`: an arrival-rate run draws iterations from a slot pool on a
 * schedule of due times (`gen`), a VU run keeps `targetVus` VUs busy in a closed loop following its VU
 * steps. Every run is built by newRun() with the same fields in the same order, so all of them share
 * one V8 hidden class and the scheduler's property reads stay monomorphic.
 */
import * as hdr from 'hdr-histogram-js';
import type { OriginConnections } from './connections.ts';
import type { ScenarioCounters } from './driver-options.ts';
import { SlotPool } from './slot-pool.ts';
import { isArrivalRate, type ArrivalRateSpec, type ScenarioSpec } from './types.ts';

export interface RequestTemplate {
  pool: OriginConnections;
  path: string;
  method: string;
  headers: string[];
  body: string | null;
  /** `,"method":…,"url":…` precomputed for the record line. */
  tail: string;
}

/** What the scheduler needs of a request in flight (request-handler.ts), without importing it. */
export interface InflightRequest {
  readonly done: boolean;
  cut(reason: Error): void;
}

export interface VuState {
  index: number;
  it?: Iteration;
  rampDownDeadline?: number;
}

export interface Iteration {
  run: ScenarioRun;
  iter: number;
  intendedMs: number;
  reqIdx: number;
  vu?: VuState;
  interrupted: boolean;
  current?: InflightRequest;
}

interface RunCommon {
  nameJson: string;
  templates: RequestTemplate[];
  startAbs: number;
  regularEnd: number;
  hardEnd: number;
  hardCutDone: boolean;
  /** performance.now() of the next due iteration (arrival-rate), Infinity when none. */
  nextDue: number;
  stepIdx: number;
  targetVus: number;
  vus: VuState[];
  rampDownsPending: number;
  iterSeq: number;
  dueSeq: number;
  inflightIterations: number;
  counters: ScenarioCounters;
  tick: { target: number; started: number; dropped: number; errors: number };
  hdrIntended: hdr.Histogram;
  hdrSent: hdr.Histogram;
}

/** constant-arrival-rate, ramping-arrival-rate: iterations due on a schedule, each takes a free slot or is dropped. */
export interface ArrivalRateRun extends RunCommon {
  spec: ArrivalRateSpec;
  slots: SlotPool;
  /** Due times in seconds from the scenario's start (schedule.ts), set when the run starts. */
  gen: Iterator<number> | undefined;
  steps: undefined;
}

/** constant-vus, ramping-vus: each VU starts its next iteration when the last one ends. */
export interface VuRun extends RunCommon {
  spec: Exclude<ScenarioSpec, ArrivalRateSpec>;
  slots: undefined;
  gen: undefined;
  /** [performance.now() ms, VU count] whenever the count changes (schedule.ts vuSteps), set when the run starts. */
  steps: Array<[number, number]>;
}

export type ScenarioRun = ArrivalRateRun | VuRun;

export const newHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

export const newTick = () => ({ target: 0, started: 0, dropped: 0, errors: 0 });

/** A run not started yet: times are filled in by the driver when it fixes time zero. */
export function newRun(spec: ScenarioSpec, templates: RequestTemplate[]): ScenarioRun {
  const arrival = isArrivalRate(spec);
  return {
    spec,
    nameJson: JSON.stringify(spec.name),
    templates,
    startAbs: 0,
    regularEnd: 0,
    hardEnd: 0,
    hardCutDone: false,
    slots: arrival ? new SlotPool(spec.preAllocatedVUs, spec.maxVUs) : undefined,
    gen: undefined,
    nextDue: Infinity,
    steps: arrival ? undefined : [],
    stepIdx: 0,
    targetVus: 0,
    vus: [],
    rampDownsPending: 0,
    iterSeq: 0,
    dueSeq: 0,
    inflightIterations: 0,
    counters: {
      iterations: 0,
      iterationsCompleted: 0,
      interrupted: 0,
      dropped: 0,
      started: 0,
      completed: 0,
      ok: 0,
      failed: 0,
      allocated: arrival ? spec.preAllocatedVUs : 0,
    },
    tick: newTick(),
    hdrIntended: newHistogram(),
    hdrSent: newHistogram(),
  } as ScenarioRun;
}
