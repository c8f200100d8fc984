/**
 * The k6-compatible run of a script (Scenario.vu): init the VUs k6 would (each evaluates the module),
 * setup() → data → the scenarios' exec functions per iteration → teardown(data) → handleSummary(data),
 * thresholds every 2 s (abortOnFail) and at the end (exit code 99 when one fails). Requests are
 * recorded in requests.ndjson like the fast path; `--out json` and `--summary-export` are written here.
 */
import fs from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import path from 'node:path';
import { RAW, type LoadTick } from '../../contracts/raw.ts';
import { resolveTarget } from '../loopback.ts';
import { NdjsonSink } from '../ndjson-sink.ts';
import type { DriverOptions, LoadResult, ScenarioCounters } from '../driver-options.ts';
import type { Scenario } from '../types.ts';
import { runExecutor, requiredVus, scenarioCtx, type ExecutorHost, type ScenarioCtx } from './executors.ts';
import { JsonOutput } from './json-output.ts';
import { closeAgent } from './k6-http.ts';
import { resetShared } from './k6-modules.ts';
import { MetricStore } from './metric-store.ts';
import type { VuProgram } from './vu-program.ts';
import { VuRuntime, type Vu } from './runtime.ts';
import { summaryData, summaryExport, summaryText } from './summary.ts';
import { evaluateThresholds, parseThresholds } from './thresholds.ts';
import { Interrupt, type RequestRecordIn, type VuHost } from './vu-state.ts';

/** k6's User-Agent, as k6 v1 sends it (lib/consts): scripts and servers that look at it see k6. */
export const K6_USER_AGENT = 'k6/1.0.0 (https://k6.io/)';

export interface VuRunOutcome {
  /** What k6 prints at the end (the summary, or handleSummary's `stdout`). */
  stdout: string;
  /** k6's exit code: 0, 99 thresholds failed, 108 test.abort(). */
  exitCode: number;
  thresholds: Array<{ metric: string; expression: string; ok: boolean }>;
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** VUs initialised ahead of a run (prewarmVuRun), taken by the next runVuLoad of the same script. */
let prepared: { code: string; rt: VuRuntime; vus: Vu[] } | undefined;

/**
 * Initialise the run's VUs now, before scenario time zero is fixed (the driver thread calls this while
 * the backend comes up): measured on this machine, initialising 256 VUs inside the run took long
 * enough that the first due iterations fired in a catch-up burst (start lag p50 329 ms at 500/s).
 */
export async function prewarmVuRun(scenario: Scenario): Promise<void> {
  const prog = scenario.vu as VuProgram;
  const host = {
    store: new MetricStore(),
    timeScale: scenario.timeScale,
    runTags: {},
    scriptDir: prog.scriptDir,
    record: () => undefined,
    http: {
      discardResponseBodies: false,
      maxRedirects: 10,
      userAgent: K6_USER_AGENT,
      throw: false,
      timeoutMs: 60_000,
      hosts: {},
      noCookiesReset: false,
    },
    resolve: async () => {
      throw new Error('no requests before the run starts');
    },
    log: (_l: string, m: string) => {
      process.stderr.write(`${m}\n`);
    },
    execution: {
      startMs: Date.now(),
      vusActive: () => 0,
      vusInitialized: () => 0,
      iterationsCompleted: () => 0,
      iterationsInterrupted: () => 0,
      abort: () => undefined,
      options: prog.options,
    },
  };
  resetShared();
  const rt = new VuRuntime(prog.code, host, { globalEnv: prog.env });
  const vus: Vu[] = [];
  const need = requiredVus(scenario.scenarios);
  for (let i = 1; i <= need; i++) vus.push(await rt.init(rt.newState(i, { ...prog.env })));
  prepared = { code: prog.code, rt, vus };
}

export async function runVuLoad(opts: DriverOptions): Promise<LoadResult & { k6: VuRunOutcome }> {
  const prog = opts.scenario.vu as VuProgram;
  const o = prog.options;
  const store = new MetricStore();
  for (const m of prog.customMetrics) store.define(m.name, m.type, m.contains);
  const { thresholds } = parseThresholds(o.thresholds, store);
  const runDir = opts.runDir;
  const requests = new NdjsonSink(path.join(runDir, RAW.requests));
  const ticks = new NdjsonSink(path.join(runDir, RAW.loadTicks));
  fs.writeFileSync(path.join(runDir, RAW.latencyHdr), '');
  const json = prog.outJson ? new JsonOutput(path.resolve(prog.outJson), thresholds) : undefined;
  if (json) store.onSample = (d, v, t, ms, md) => json.sample(d, v, t, ms, md);

  let t0 = opts.t0Epoch ?? Date.now();
  let seq = 0;
  const rid = Math.random().toString(16).slice(2, 10);
  const origins = new Map<string, Promise<{ origin: string }>>();
  let fixed: Promise<{ address: string; port: number }> | undefined;
  if (opts.connectTo) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(opts.connectTo);
    if (m) fixed = resolveTarget(m[1], Number(m[2]), opts.allowNonLoopback ?? false, 'connectTo');
  }
  const hosts = (o.hosts ?? {}) as Record<string, string>;
  let stopping = false;
  let abortReason: string | undefined;
  let exitCode = 0;
  const allVus: Vu[] = [];
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    abortReason = why;
    for (const vu of allVus) vu.state.interrupt.abort(why);
    wake();
  };
  const sleepers = new Set<() => void>();
  const wake = () => {
    for (const f of sleepers) f();
    sleepers.clear();
  };
  const counters = { completed: 0, interrupted: 0 };

  // Start lag of arrival-rate iterations (first request sent − due time), µs, as the fast path reports it.
  const lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const record = (r: RequestRecordIn) => {
    const id = ++seq;
    if (r.arrival) lag.recordValue(Math.max(1, Math.round((r.sentMs - r.intendedMs) * 1000)));
    const h = r.headers;
    const one = (k: string) => {
      const v = h[k];
      return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
    };
    const envoy = ['x-envoy-overloaded', 'x-envoy-ratelimited', 'x-envoy-immediate-health-check-fail']
      .filter((k) => h[k] !== undefined)
      .map((k) => (k === 'x-envoy-overloaded' ? 'overloaded' : k === 'x-envoy-ratelimited' ? 'ratelimited' : 'health-check-fail'));
    requests.writeObject({
      id,
      scenario: r.scenario,
      iter: r.iter,
      intended: r6((r.intendedMs - t0) / 1000),
      sent: r6((r.sentMs - t0) / 1000),
      end: r6((r.endMs - t0) / 1000),
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
      ...(one('x-spillover-service') ? { service: one('x-spillover-service') } : {}),
      ...(one('x-spillover-instance') ? { instance: one('x-spillover-instance') } : {}),
      ...(envoy.length ? { envoy: envoy.join(',') } : {}),
      rid: `${rid}-${id}`,
      method: r.method,
      url: r.url,
    });
    requests.maybeFlush(performance.now());
  };
  const host: Omit<VuHost, 'realm'> = {
    store,
    timeScale: opts.scenario.timeScale,
    runTags: { ...((o.tags ?? {}) as Record<string, string>) },
    scriptDir: prog.scriptDir,
    record,
    http: {
      discardResponseBodies: o.discardResponseBodies === true,
      maxRedirects: typeof o.maxRedirects === 'number' ? o.maxRedirects : 10,
      userAgent: typeof o.userAgent === 'string' ? o.userAgent : K6_USER_AGENT,
      throw: o.throw === true,
      timeoutMs: opts.requestTimeoutMs ?? 60_000,
      hosts,
      noCookiesReset: o.noCookiesReset === true,
    },
    resolve: (url: URL) => {
      const key = `${url.protocol}//${url.host}`;
      let p = origins.get(key);
      if (!p) {
        p = (async () => {
          const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
          const mapped = hosts[url.hostname] ?? hosts[`${url.hostname}:${port}`];
          const [h, pp] = mapped
            ? mapped.includes(':') && !mapped.startsWith('[')
              ? [mapped.split(':')[0], Number(mapped.split(':')[1])]
              : [mapped, port]
            : [url.hostname, port];
          const t = fixed
            ? await fixed
            : await resolveTarget(String(h), Number(pp), opts.allowNonLoopback ?? false, `${prog.file} request to ${url.href}`);
          const addr = t.address.includes(':') ? `[${t.address}]` : t.address;
          return { origin: `${url.protocol}//${addr}:${t.port}` };
        })();
        origins.set(key, p);
        p.catch(() => origins.delete(key));
      }
      return p;
    },
    log:
      opts.vuLog ??
      ((level, msg) => {
        const el = Math.floor((Date.now() - t0) / 1000);
        process.stderr.write(
          `${level.toUpperCase().slice(0, 4)}[${String(Math.max(0, el)).padStart(4, '0')}] ${msg}${level === 'info' || level === 'debug' ? '  source=console' : ''}\n`,
        );
      }),
    execution: {
      startMs: t0,
      vusActive: () => allVus.filter((v) => busy.has(v)).length,
      vusInitialized: () => allVus.length,
      iterationsCompleted: () => counters.completed,
      iterationsInterrupted: () => counters.interrupted,
      abort: (reason) => {
        exitCode = 108;
        stop(`test.abort(): ${reason}`);
      },
      options: o,
    },
  };
  const env = { ...prog.env };
  const idle: Vu[] = [];
  const busy = new Set<Vu>();
  // k6 initialises every VU the run needs before the test starts: the driver thread did it before t0
  // was fixed (prewarmVuRun); otherwise it happens here.
  const pre = prepared?.code === prog.code ? prepared : undefined;
  prepared = undefined;
  let rt: VuRuntime;
  if (pre) {
    Object.assign(pre.rt.host, host);
    rt = pre.rt;
    allVus.push(...pre.vus);
    idle.push(...pre.vus);
  } else {
    resetShared();
    rt = new VuRuntime(prog.code, host, { globalEnv: prog.env });
  }
  const newVu = async (): Promise<Vu> => {
    const vu = await rt.init(rt.newState(allVus.length + 1, { ...env }));
    allVus.push(vu);
    return vu;
  };
  const need = requiredVus(opts.scenario.scenarios);
  while (allVus.length < need) idle.push(await newVu());
  opts.onReady?.();

  let setupData: unknown;
  const aux = await rt.init(rt.newState(0, { ...env }));
  const call = async (name: string, arg?: unknown) => {
    const fn = aux.exports[name];
    if (typeof fn !== 'function') return undefined;
    return (fn as (d: unknown) => unknown).call(undefined, arg);
  };
  const cloneData = (d: unknown) => (d === undefined ? undefined : rt.realmHost.realm.parseJSON(JSON.stringify(d)));
  try {
    setupData = cloneData(await call('setup'));
  } catch (e) {
    throw Object.assign(new Error(`setup() failed: ${(e as Error)?.message ?? e}`), { exitCode: 107 });
  }
  if (opts.t0Epoch === undefined) t0 = Date.now();
  host.execution.startMs = t0;

  const ctxs = opts.scenario.scenarios.map((s) => scenarioCtx(s, t0));
  const eh: ExecutorHost = {
    acquire: async () => {
      const vu = idle.pop() ?? (await newVu());
      busy.add(vu);
      return vu;
    },
    release: (vu) => {
      busy.delete(vu);
      idle.push(vu);
    },
    iterate: (vu, sc, intendedMs) => iterate(vu, sc, intendedMs),
    dropped: (sc) => {
      sc.dropped++;
      sc.tick.dropped++;
      store.add('dropped_iterations', 1, { ...host.runTags, ...sc.spec.tags, scenario: sc.spec.name });
    },
    stopped: () => stopping,
    wait: (ms) =>
      ms <= 0 || stopping
        ? Promise.resolve()
        : new Promise<void>((res) => {
            const done = () => {
              clearTimeout(t);
              sleepers.delete(done);
              res();
            };
            const t = setTimeout(done, ms);
            sleepers.add(done);
          }),
  };
  const perVuIter = new Map<Vu, { sc: ScenarioCtx; n: number }>();
  const minIter =
    typeof o.minIterationDuration === 'string'
      ? ((await import('../../util/duration.ts')).parseK6DurationSeconds(o.minIterationDuration) ?? 0)
      : 0;
  async function iterate(vu: Vu, sc: ScenarioCtx, intendedMs: number): Promise<void> {
    const st = vu.state;
    const prev = perVuIter.get(vu);
    const n = prev && prev.sc === sc ? prev.n : 0;
    perVuIter.set(vu, { sc, n: n + 1 });
    st.iter = n;
    st.iterInScenario = sc.started++;
    st.iterInInstance++;
    sc.tick.started++;
    st.groupPath = '';
    st.intendedMs = intendedMs;
    st.arrival = sc.spec.executor === 'constant-arrival-rate' || sc.spec.executor === 'ramping-arrival-rate';
    st.env = { ...env, ...sc.spec.env };
    st.scenario = {
      name: sc.spec.name,
      executor: sc.spec.executor,
      startMs: sc.startMs,
      env: sc.spec.env,
      tags: sc.spec.tags ?? {},
      iterationInTest: () => st.iterInScenario,
      progress: () => Math.min(1, (Date.now() - sc.startMs) / Math.max(1, sc.regularEndMs - sc.startMs)),
    };
    if (!host.http.noCookiesReset) st.jar.clearAll();
    if (st.interrupt.signal.aborted) st.interrupt = new AbortController();
    if (stopping) {
      st.interrupt.abort(abortReason);
    }
    sc.active.add(vu);
    const start = Date.now();
    let interrupted = false;
    try {
      const fn = vu.exports[sc.spec.exec] as (d: unknown) => unknown;
      await fn.call(undefined, setupData);
      if (minIter > 0 && Date.now() - start < minIter * 1000) await eh.wait(minIter * 1000 - (Date.now() - start));
    } catch (e) {
      if (e instanceof Interrupt || st.interrupt.signal.aborted) interrupted = true;
      else
        host.log(
          'error',
          `${(e as Error)?.stack?.split('\n').slice(0, 2).join(' ') ?? String(e)}  executor=${sc.spec.executor} scenario=${sc.spec.name}`,
        );
    }
    sc.active.delete(vu);
    if (interrupted) {
      sc.interrupted++;
      counters.interrupted++;
      return;
    }
    sc.completed++;
    counters.completed++;
    const tags = { ...host.runTags, ...sc.spec.tags, ...st.tags, scenario: sc.spec.name, group: '' };
    store.add('iterations', 1, tags);
    store.add('iteration_duration', Date.now() - start, tags);
  }

  // Hard ends: in-flight iterations are interrupted gracefulStop after the regular end.
  const timers: NodeJS.Timeout[] = [];
  for (const sc of ctxs)
    timers.push(
      setTimeout(
        () => {
          for (const vu of sc.active) vu.state.interrupt.abort('gracefulStop');
        },
        Math.max(0, sc.hardEndMs - Date.now()),
      ),
    );
  let tick = 1;
  const onTick = () => {
    const el = (Date.now() - t0) / 1000;
    while (tick <= el) {
      for (const sc of ctxs) {
        if (sc.tick.target === 0 && sc.tick.started === 0 && Date.now() < sc.startMs) continue;
        const lt: LoadTick = {
          t: tick,
          scenario: sc.spec.name,
          target: sc.tick.target || sc.tick.started,
          started: sc.tick.started,
          dropped: sc.tick.dropped,
          active: sc.active.size,
          allocated: sc.allocated,
        };
        ticks.writeObject(lt);
        sc.tick = { target: 0, started: 0, dropped: 0 };
      }
      ticks.flush();
      store.add('vus', busy.size, { ...host.runTags });
      store.add('vus_max', allVus.length, { ...host.runTags });
      tick++;
    }
  };
  const tickTimer = setInterval(onTick, 250);
  const thTimer = setInterval(() => {
    const abort = evaluateThresholds(thresholds, store, (Date.now() - t0) / 1000);
    if (abort.length) {
      exitCode = 99;
      stop(`thresholds on ${abort.map((t) => t.key).join(', ')} crossed (abortOnFail)`);
    }
  }, 2000);
  const onAbort = () => stop('interrupted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop('interrupted');
  try {
    await Promise.all(ctxs.map((sc) => runExecutor(sc, eh)));
  } finally {
    clearInterval(tickTimer);
    clearInterval(thTimer);
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  onTick();
  store.add('vus', 0, { ...host.runTags });
  store.add('vus_max', allVus.length, { ...host.runTags });
  const durationMs = Date.now() - t0;
  aux.state.interrupt = new AbortController();
  try {
    await call('teardown', setupData);
  } catch (e) {
    host.log('error', `teardown() failed: ${(e as Error)?.message ?? e}`);
  }
  evaluateThresholds(thresholds, store, durationMs / 1000);
  if (thresholds.some((t) => t.ok === false) && exitCode === 0) exitCode = 99;
  const trendStats = Array.isArray(o.summaryTrendStats)
    ? (o.summaryTrendStats as string[])
    : ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];
  const groupPaths = store.seriesOf('group_duration').map((s) => s.tags.group ?? '');
  const data = summaryData(
    store,
    thresholds,
    durationMs,
    trendStats,
    groupPaths,
    setupData === undefined ? undefined : JSON.parse(JSON.stringify(setupData)),
  );
  let stdout = summaryText(data);
  if (typeof aux.exports.handleSummary === 'function') {
    try {
      const out = (await call('handleSummary', cloneData(data))) as Record<string, unknown> | undefined;
      stdout = '';
      for (const [k, v] of Object.entries(out ?? {})) {
        const text = typeof v === 'string' ? v : v instanceof ArrayBuffer ? Buffer.from(v).toString() : JSON.stringify(v);
        if (k === 'stdout') stdout += text;
        else if (k === 'stderr') process.stderr.write(text);
        else {
          const f = path.resolve(opts.vuCwd ?? process.cwd(), k);
          fs.mkdirSync(path.dirname(f), { recursive: true });
          fs.writeFileSync(f, text);
        }
      }
    } catch (e) {
      host.log('error', `handleSummary() failed: ${(e as Error)?.message ?? e}; printing the default summary`);
    }
  }
  if (prog.summaryExport) fs.writeFileSync(path.resolve(prog.summaryExport), `${JSON.stringify(summaryExport(data), null, 2)}\n`);
  requests.close();
  ticks.close();
  json?.close();
  await closeAgent();
  const startLagMs =
    lag.totalCount === 0
      ? { count: 0, p50: 0, p99: 0, max: 0 }
      : {
          count: lag.totalCount,
          p50: lag.getValueAtPercentile(50) / 1000,
          p99: lag.getValueAtPercentile(99) / 1000,
          max: lag.maxValue / 1000,
        };
  return result(
    ctxs,
    t0,
    abortReason === 'interrupted',
    runDir,
    startLagMs,
    { stdout, exitCode, thresholds: thresholds.map((t) => ({ metric: t.key, expression: t.source, ok: t.ok !== false })) },
    seq,
    store,
  );
}

function result(
  ctxs: ScenarioCtx[],
  t0: number,
  aborted: boolean,
  runDir: string,
  startLagMs: LoadResult['startLagMs'],
  k6: VuRunOutcome,
  requests: number,
  store: MetricStore,
): LoadResult & { k6: VuRunOutcome } {
  const scenarios: Record<string, ScenarioCounters> = {};
  const reqs = store.seriesOf('http_reqs');
  const failed = store.seriesOf('http_req_failed');
  const sum = { iterations: 0, iterationsCompleted: 0, interrupted: 0, dropped: 0, started: 0, completed: 0, ok: 0, failed: 0 };
  for (const sc of ctxs) {
    const name = sc.spec.name;
    const started = reqs.filter((s) => s.tags.scenario === name).reduce((a, s) => a + s.count, 0);
    const bad = failed.filter((s) => s.tags.scenario === name).reduce((a, s) => a + s.nonZero, 0);
    const c: ScenarioCounters = {
      iterations: sc.started,
      iterationsCompleted: sc.completed,
      interrupted: sc.interrupted,
      dropped: sc.dropped,
      started,
      completed: started,
      ok: started - bad,
      failed: bad,
      allocated: sc.allocated,
    };
    scenarios[name] = c;
    for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += c[k];
  }
  void requests;
  return {
    ...sum,
    t0Epoch: t0,
    aborted,
    scenarios,
    startLagMs,
    k6,
    files: {
      requests: path.join(runDir, RAW.requests),
      loadTicks: path.join(runDir, RAW.loadTicks),
      latencyHdr: path.join(runDir, RAW.latencyHdr),
    },
  };
}
