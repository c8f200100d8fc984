/**
 * The k6-compatible run of a script (Scenario.vu): init the VUs k6 would (each evaluates the module),
 * setup() → data → the scenarios' exec functions per iteration → teardown(data) → handleSummary(data),
 * thresholds every 2 s (abortOnFail) and at the end (exit code 99 when one fails). Requests are
 * recorded in requests.ndjson like the fast path (vu-record.ts); `--out json` and `--summary-export`
 * are written here and in vu-finish.ts.
 */
import path from 'node:path';
import type { LoadTick } from '../../contracts/raw.ts';
import type { DriverOptions, LoadResult } from '../driver-options.ts';
import type { Scenario } from '../types.ts';
import { runExecutor, requiredVus, scenarioCtx, type ExecutorHost, type ScenarioCtx } from './executors.ts';
import { JsonOutput } from './json-output.ts';
import { closeAgent } from './k6-http.ts';
import { resetShared } from './k6-modules.ts';
import { MetricStore, tagKey } from './metric-store.ts';
import type { VuProgram } from './vu-program.ts';
import { VuRuntime, type Vu } from './runtime.ts';
import { evaluateThresholds, parseThresholds, type Threshold } from './thresholds.ts';
import { finishRun, vuResult, type VuRunOutcome } from './vu-finish.ts';
import { VuRecorder } from './vu-record.ts';
import { httpOptions, idleHost, k6Logger, makeResolver } from './vu-run-host.ts';
import { preciseWait } from './precise-wait.ts';
import { sharedTransport } from './http-send.ts';
import { rehearseVus } from './vu-rehearsal.ts';
import { LoopInterrupt, startHeartbeat } from './loop-guard.ts';
import { Interrupt, preciseNowMs, type ScenarioInfo, type VuHost } from './vu-state.ts';

export { K6_USER_AGENT } from './vu-run-host.ts';
export type { VuRunOutcome } from './vu-finish.ts';

/** How long the rehearsal before t0 runs (vu-rehearsal.ts). */
const REHEARSAL_MS = 300;
/** Connections opened per origin before t0 at most (the fast path's bound, driver.ts PRECONNECT_MAX). */
const PRECONNECT_MAX = 256;

/** VUs initialised ahead of a run (prewarmVuRun), taken by the next runVuLoad of the same script. */
let prepared: { code: string; rt: VuRuntime; vus: Vu[]; origins: string[] } | undefined;

/**
 * Initialise the run's VUs now, before scenario time zero is fixed (the driver thread calls this while
 * the backend comes up): measured on this machine, initialising 256 VUs inside the run took long
 * enough that the first due iterations fired in a catch-up burst (start lag p50 329 ms at 500/s).
 */
export async function prewarmVuRun(scenario: Scenario): Promise<void> {
  const prog = scenario.vu as VuProgram;
  resetShared();
  const rt = new VuRuntime(prog.code, idleHost(prog, scenario.timeScale), { globalEnv: prog.env });
  const vus: Vu[] = [];
  const need = requiredVus(scenario.scenarios);
  for (let i = 1; i <= need; i++) vus.push(await rt.init(rt.newState(i, { ...prog.env })));
  const execs = [...new Set(scenario.scenarios.map((s) => s.exec))];
  const origins = await rehearseVus(rt, { execs, env: prog.env, vus: Math.min(8, need), ms: REHEARSAL_MS });
  prepared = { code: prog.code, rt, vus, origins };
}

export function runVuLoad(opts: DriverOptions): Promise<LoadResult & { k6: VuRunOutcome }> {
  return new VuRun(opts).run();
}

/**
 * Per VU and scenario: __ITER, the k6/execution scenario view and the exec function, looked up once,
 * not per iteration (the export is a chain of esbuild's interop getters: a visible cost per iteration).
 */
interface VuInScenario {
  sc: ScenarioCtx;
  n: number;
  info: ScenarioInfo;
  fn: (d: unknown) => unknown;
}

/** One run of a VU program: the VU pool, the iterations, the periodic ticks and thresholds. */
class VuRun {
  private readonly prog: VuProgram;
  private readonly o: VuProgram['options'];
  private readonly store = new MetricStore();
  private readonly thresholds: Threshold[];
  private readonly rec: VuRecorder;
  private readonly json?: JsonOutput;
  private readonly host: Omit<VuHost, 'realm'>;
  private readonly env: Record<string, string>;
  private rt!: VuRuntime;
  private aux!: Vu;
  private setupData: unknown;
  private ctxs: ScenarioCtx[] = [];
  private stopping = false;
  private abortReason: string | undefined;
  private exitCode = 0;
  private markedFailed = false;
  private readonly allVus: Vu[] = [];
  private readonly idle: Vu[] = [];
  private readonly busy = new Set<Vu>();
  private readonly sleepers = new Set<() => void>();
  private readonly counters = { completed: 0, interrupted: 0 };
  private readonly perVu = new Map<Vu, VuInScenario>();
  private minIterMs = 0;
  private tick = 1;

  constructor(private readonly opts: DriverOptions) {
    this.prog = opts.scenario.vu as VuProgram;
    this.o = this.prog.options;
    for (const m of this.prog.customMetrics) this.store.define(m.name, m.type, m.contains);
    this.thresholds = parseThresholds(this.o.thresholds, this.store).thresholds;
    this.rec = new VuRecorder(opts.runDir, opts.t0Epoch ?? Date.now());
    this.json = this.prog.outJson ? new JsonOutput(path.resolve(this.prog.outJson), this.thresholds) : undefined;
    const json = this.json;
    if (json) this.store.onSample = (d, v, t, ms, md) => json.sample(d, v, t, ms, md);
    this.env = { ...this.prog.env };
    this.host = this.makeHost();
  }

  private makeHost(): Omit<VuHost, 'realm'> {
    const http = httpOptions(this.o, this.opts.requestTimeoutMs);
    return {
      store: this.store,
      timeScale: this.opts.scenario.timeScale,
      runTags: { ...((this.o.tags ?? {}) as Record<string, string>) },
      scriptDir: this.prog.scriptDir,
      record: this.rec.record,
      http,
      resolve: makeResolver(this.opts, this.prog, http.hosts),
      log: this.opts.vuLog ?? k6Logger(() => this.rec.t0),
      execution: {
        startMs: this.rec.t0,
        vusActive: () => this.allVus.filter((v) => this.busy.has(v)).length,
        vusInitialized: () => this.allVus.length,
        iterationsCompleted: () => this.counters.completed,
        iterationsInterrupted: () => this.counters.interrupted,
        abort: (reason) => {
          this.exitCode = 108;
          this.stop(`test.abort(): ${reason}`);
        },
        // exec.test.fail(): the run goes on and ends with k6's exit code 110.
        fail: () => {
          this.markedFailed = true;
        },
        options: this.o,
      },
    };
  }

  private stop(why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.abortReason = why;
    for (const vu of this.allVus) vu.state.interrupt.abort(why);
    for (const f of this.sleepers) f();
    this.sleepers.clear();
  }

  private async newVu(): Promise<Vu> {
    const vu = await this.rt.init(this.rt.newState(this.allVus.length + 1, { ...this.env }));
    this.allVus.push(vu);
    return vu;
  }

  /** k6 initialises every VU the run needs before the test starts: the driver thread did it before t0 was fixed (prewarmVuRun); otherwise here. */
  private async initVus(): Promise<void> {
    const pre = prepared?.code === this.prog.code ? prepared : undefined;
    prepared = undefined;
    if (pre) {
      Object.assign(pre.rt.host, this.host);
      this.rt = pre.rt;
      this.allVus.push(...pre.vus);
      this.idle.push(...pre.vus);
      await this.preconnect(pre.origins, Math.min(PRECONNECT_MAX, pre.vus.length));
    } else {
      resetShared();
      this.rt = new VuRuntime(this.prog.code, this.host, { globalEnv: this.prog.env });
    }
    const need = requiredVus(this.opts.scenario.scenarios);
    while (this.allVus.length < need) this.idle.push(await this.newVu());
    this.opts.onReady?.();
    this.aux = await this.rt.init(this.rt.newState(0, { ...this.env }));
  }

  /** Opens connections to the origins the rehearsal saw, through the run's resolver (loopback guard, connect-to, hosts). */
  private async preconnect(origins: string[], count: number): Promise<void> {
    await Promise.all(
      origins.map(async (o) => {
        try {
          const { origin } = await this.host.resolve(new URL(o));
          await sharedTransport().preconnect(origin, count);
        } catch {
          // Refused or unreachable: the requests themselves report it, as k6 would.
        }
      }),
    );
  }

  private call = async (name: string, arg?: unknown): Promise<unknown> => {
    const fn = this.aux.exports[name];
    if (typeof fn !== 'function') return undefined;
    return (fn as (d: unknown) => unknown).call(undefined, arg);
  };

  private cloneData = (d: unknown) => (d === undefined ? undefined : this.rt.realmHost.realm.parseJSON(JSON.stringify(d)));

  async run(): Promise<LoadResult & { k6: VuRunOutcome }> {
    sharedTransport().reconnectOnError = this.opts.reconnectOnError ?? false;
    await this.initVus();
    try {
      this.setupData = this.cloneData(await this.call('setup'));
    } catch (e) {
      throw Object.assign(new Error(`setup() failed: ${(e as Error)?.message ?? e}`), { exitCode: 107 });
    }
    if (this.opts.t0Epoch === undefined) this.rec.t0 = Date.now();
    const t0 = this.rec.t0;
    this.host.execution.startMs = t0;
    this.ctxs = this.opts.scenario.scenarios.map((s) => scenarioCtx(s, t0));
    if (typeof this.o.minIterationDuration === 'string')
      this.minIterMs = ((await import('../../util/duration.ts')).parseK6DurationSeconds(this.o.minIterationDuration) ?? 0) * 1000;
    await this.runScenarios();
    this.onTick();
    const runTags = this.host.runTags;
    this.store.add('vus', 0, { ...runTags });
    this.store.add('vus_max', this.allVus.length, { ...runTags });
    const durationMs = Date.now() - t0;
    this.aux.state.interrupt = new AbortController();
    const k6 = await finishRun({
      prog: this.prog,
      store: this.store,
      thresholds: this.thresholds,
      durationMs,
      setupData: this.setupData,
      exitCode: this.exitCode,
      markedFailed: this.markedFailed,
      host: this.host,
      vuCwd: this.opts.vuCwd,
      call: this.call,
      hasExport: (n) => typeof this.aux.exports[n] === 'function',
      cloneData: this.cloneData,
    });
    this.rec.close();
    this.json?.close();
    await closeAgent();
    return vuResult(this.ctxs, t0, this.abortReason === 'interrupted', this.opts.runDir, this.rec.startLagMs(), k6, this.store);
  }

  private executorHost(): ExecutorHost {
    return {
      acquire: async () => {
        const vu = this.idle.pop() ?? (await this.newVu());
        this.busy.add(vu);
        return vu;
      },
      release: (vu) => {
        this.busy.delete(vu);
        this.idle.push(vu);
      },
      iterate: (vu, sc, intendedMs) => this.iterate(vu, sc, intendedMs),
      dropped: (sc) => {
        sc.dropped++;
        sc.tick.dropped++;
        this.store.add('dropped_iterations', 1, { ...this.host.runTags, ...sc.spec.tags, scenario: sc.spec.name });
      },
      stopped: () => this.stopping,
      wait: (ms) => preciseWait(ms, this.sleepers, () => this.stopping),
    };
  }

  /** The scenarios' executors, with the hard-end timers, load ticks and threshold checks around them. */
  private async runScenarios(): Promise<void> {
    const eh = this.executorHost();
    // Hard ends: in-flight iterations are interrupted gracefulStop after the regular end.
    const timers = this.ctxs.map((sc) =>
      setTimeout(
        () => {
          for (const vu of sc.active) vu.state.interrupt.abort('gracefulStop');
        },
        Math.max(0, sc.hardEndMs - Date.now()),
      ),
    );
    const tickTimer = setInterval(() => this.onTick(), 250);
    const thTimer = setInterval(() => {
      const abort = evaluateThresholds(this.thresholds, this.store, (Date.now() - this.rec.t0) / 1000);
      if (abort.length) {
        this.exitCode = 99;
        this.stop(`thresholds on ${abort.map((t) => t.key).join(', ')} crossed (abortOnFail)`);
      }
    }, 2000);
    const stopHeartbeat = startHeartbeat();
    const signal = this.opts.signal;
    const onAbort = () => this.stop('interrupted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.stop('interrupted');
    try {
      await Promise.all(this.ctxs.map((sc) => runExecutor(sc, eh)));
    } finally {
      clearInterval(tickTimer);
      clearInterval(thTimer);
      for (const t of timers) clearTimeout(t);
      stopHeartbeat();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** __ITER and the scenario view of `vu` in `sc` (k6/execution), kept while the VU stays in the scenario. */
  private enter(vu: Vu, sc: ScenarioCtx): VuInScenario {
    const prev = this.perVu.get(vu);
    if (prev && prev.sc === sc) return prev;
    const st = vu.state;
    const info: ScenarioInfo = {
      name: sc.spec.name,
      executor: sc.spec.executor,
      startMs: sc.startMs,
      env: sc.spec.env,
      tags: sc.spec.tags ?? {},
      iterationInTest: () => st.iterInScenario,
      progress: () => Math.min(1, (Date.now() - sc.startMs) / Math.max(1, sc.regularEndMs - sc.startMs)),
    };
    const cur = { sc, n: 0, info, fn: vu.exports[sc.spec.exec] as (d: unknown) => unknown };
    this.perVu.set(vu, cur);
    return cur;
  }

  private async iterate(vu: Vu, sc: ScenarioCtx, intendedMs: number): Promise<void> {
    const st = vu.state;
    const inSc = this.enter(vu, sc);
    st.iter = inSc.n++;
    st.iterInScenario = sc.started++;
    st.iterInInstance++;
    sc.tick.started++;
    st.groupPath = '';
    st.intendedMs = intendedMs;
    st.arrival = sc.spec.executor === 'constant-arrival-rate' || sc.spec.executor === 'ramping-arrival-rate';
    st.env = { ...this.env, ...sc.spec.env };
    st.scenario = inSc.info;
    st.deadlineMs = sc.hardEndMs;
    if (!this.host.http.noCookiesReset) st.jar.clearAll();
    if (st.interrupt.signal.aborted) st.interrupt = new AbortController();
    if (this.stopping) st.interrupt.abort(this.abortReason);
    sc.active.add(vu);
    const start = preciseNowMs();
    const interrupted = await this.runExec(inSc.fn, vu, sc, start);
    sc.active.delete(vu);
    if (interrupted) {
      sc.interrupted++;
      this.counters.interrupted++;
      return;
    }
    sc.completed++;
    this.counters.completed++;
    const tags = { ...this.host.runTags, ...sc.spec.tags, ...st.tags, scenario: sc.spec.name, group: '' };
    const key = tagKey(tags);
    this.store.add('iterations', 1, tags, undefined, undefined, key);
    this.store.add('iteration_duration', preciseNowMs() - start, tags, undefined, undefined, key);
  }

  /** Calls the scenario's exec function; true when the iteration was interrupted. */
  private async runExec(fn: (d: unknown) => unknown, vu: Vu, sc: ScenarioCtx, start: number): Promise<boolean> {
    const st = vu.state;
    try {
      await fn.call(undefined, this.setupData);
      const left = this.minIterMs - (preciseNowMs() - start);
      if (this.minIterMs > 0 && left > 0) await preciseWait(left, this.sleepers, () => this.stopping);
      return false;
    } catch (e) {
      if (e instanceof LoopInterrupt) {
        this.host.log('error', `${e.message}  executor=${sc.spec.executor} scenario=${sc.spec.name}`);
        return true;
      }
      if (e instanceof Interrupt || st.interrupt.signal.aborted) return true;
      this.host.log(
        'error',
        `${(e as Error)?.stack?.split('\n').slice(0, 2).join(' ') ?? String(e)}  executor=${sc.spec.executor} scenario=${sc.spec.name}`,
      );
      return false;
    } finally {
      // Requests the script started and never awaited end inside their iteration, as in k6: recorded,
      // not cut off when the run's files close.
      if (st.pending?.size) await Promise.allSettled([...st.pending]);
    }
  }

  /** One load tick per second of scenario time (load.ndjson), and k6's vus / vus_max gauges. */
  private onTick(): void {
    const el = (Date.now() - this.rec.t0) / 1000;
    while (this.tick <= el) {
      for (const sc of this.ctxs) {
        if (sc.tick.target === 0 && sc.tick.started === 0 && Date.now() < sc.startMs) continue;
        const lt: LoadTick = {
          t: this.tick,
          scenario: sc.spec.name,
          target: sc.tick.target || sc.tick.started,
          started: sc.tick.started,
          dropped: sc.tick.dropped,
          active: sc.active.size,
          allocated: sc.allocated,
        };
        this.rec.ticks.writeObject(lt);
        sc.tick = { target: 0, started: 0, dropped: 0 };
      }
      this.rec.ticks.flush();
      this.store.add('vus', this.busy.size, { ...this.host.runTags });
      this.store.add('vus_max', this.allVus.length, { ...this.host.runTags });
      this.tick++;
    }
  }
}
