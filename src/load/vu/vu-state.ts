/**
 * What a VU's k6 modules share: the run-wide host (metrics, recording, the loopback guard, the VU
 * context's realm) and the VU's own state (id, iteration, scenario, group, cookies, interruption).
 */
import type { MetricStore, Tags } from './metric-store.ts';
import type { CookieJar } from './cookie-jar.ts';

export interface RequestRecordIn {
  scenario: string;
  iter: number;
  intendedMs: number;
  sentMs: number;
  endMs: number;
  status: number;
  error?: string;
  method: string;
  url: string;
  /** Spillover's identity headers of the response (x-spillover-service, -instance, Envoy's flags). */
  service?: string;
  instance?: string;
  envoy?: string;
  /** The first request of an arrival-rate iteration: its start lag counts. */
  arrival?: boolean;
}

export interface HttpOptions {
  discardResponseBodies: boolean;
  maxRedirects: number;
  userAgent: string;
  throw: boolean;
  timeoutMs: number;
  hosts: Record<string, string>;
  noCookiesReset: boolean;
}

export interface VuHost {
  store: MetricStore;
  http: HttpOptions;
  /** Tags on every sample (options.tags, --tag). */
  runTags: Tags;
  /** The run's time scale: sleep() is a duration of the scenario's timeline, so it is scaled like the others. */
  timeScale?: number;
  /** Directory `open()` resolves relative paths against. */
  scriptDir: string;
  record(r: RequestRecordIn): void;
  /** Where to connect for a URL (loopback guard, --connect-to, options.hosts). Throws a SpilloverError. */
  resolve(url: URL): Promise<{ origin: string }>;
  /** Values created in the VU context's realm, so the context's (async-aware) builtins apply to them. */
  realm: {
    parseJSON(text: string): unknown;
    array(a: unknown[]): unknown[];
    object(): Record<string, unknown>;
    /** `p.then(f)` chained by a function of the context, so the job runs on the context's microtask queue (the probe's time limit). */
    then(p: Promise<unknown>, f: (v: unknown) => unknown): Promise<unknown>;
  };
  log(level: 'info' | 'warn' | 'error' | 'debug', msg: string): void;
  /** k6/execution's view of the whole run. */
  execution: {
    startMs: number;
    vusActive(): number;
    vusInitialized(): number;
    iterationsCompleted(): number;
    iterationsInterrupted(): number;
    abort(reason: string): void;
    /** exec.test.fail(): the run goes on, and ends with k6's exit code 110 (unless thresholds failed: 99). */
    fail?(reason: string): void;
    options: unknown;
  };
}

export interface ScenarioInfo {
  name: string;
  executor: string;
  startMs: number;
  env: Record<string, string>;
  tags: Tags;
  iterationInTest(): number;
  progress(): number;
}

export class Interrupt extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'Interrupt';
  }
}

export interface VuState {
  id: number;
  /** __ITER: iterations this VU started in the current scenario. */
  iter: number;
  iterInInstance: number;
  iterInScenario: number;
  scenario?: ScenarioInfo;
  /** exec.vu.tags: set by the script, added to every sample of this VU. */
  tags: Tags;
  groupPath: string;
  jar: CookieJar;
  initPhase: boolean;
  intendedMs: number;
  /** The current iteration was scheduled by an arrival-rate executor (its due time is intendedMs). */
  arrival?: boolean;
  /** Aborts the iteration's pending sleep/request (gracefulStop, ramp-down, abort). */
  interrupt: AbortController;
  env: Record<string, string>;
  /** Loop turns counted by the transform's guard (loop-guard.ts). */
  loops: number;
  /** Epoch ms after which a loop that never yields is interrupted (the scenario's hard end). */
  deadlineMs: number;
  /** Called by the guard every 2^20 loop turns; throws to end the iteration (loop-guard.ts). */
  loopCheck(where: string): void;
  /** http.asyncRequest calls not yet settled: k6 ends an iteration only when its event loop is empty. */
  pending?: Set<Promise<unknown>>;
}

/** Tags of a sample taken now: run tags, scenario tags, VU tags, then the metric's own. */
export function sampleTags(host: VuHost, vu: VuState, own?: Record<string, unknown>): Tags {
  const t: Tags = { ...host.runTags };
  if (vu.scenario) {
    Object.assign(t, vu.scenario.tags);
    t.scenario = vu.scenario.name;
  }
  Object.assign(t, vu.tags);
  if (own)
    for (const k in own) {
      const v = own[k];
      if (v !== undefined && v !== null) t[k] = String(v);
    }
  return t;
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution (Date.now() has 1 ms, too coarse for start
 * lag measured against a 1 ms p99 bound). Epoch-based like Date.now(), so it mixes with t0Epoch.
 */
export const preciseNowMs = (): number => performance.timeOrigin + performance.now();

export function throwIfInterrupted(vu: VuState): void {
  if (vu.interrupt.signal.aborted) throw new Interrupt(String(vu.interrupt.signal.reason ?? 'interrupted'));
}
