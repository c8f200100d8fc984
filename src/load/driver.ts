/**
 * The embedded open-loop driver: runs a {@link Scenario} with k6's executor semantics against real HTTP
 * servers and streams what happened into the run directory (src/runner/raw.ts). Experiments and
 * `spillover load` run it on a thread of its own (driver-thread.ts).
 *
 * Design, for a 2-core machine: one scheduler loop (`pump`) fires every due iteration — no timer per
 * request. It sleeps with one setTimeout until just before the next due time and then naps and spins on
 * setImmediate (still serving I/O between turns); iterations that fall due while responses are being
 * handled are fired from the response callbacks (catchUp), so a busy poll phase does not delay them.
 * When it is late it fires everything overdue at once (k6 catches up, never skips).
 * Requests go through undici's dispatcher API (no streams, no promises per request), one keep-alive
 * connection per in-flight iteration like a k6 VU (connections.ts, opened before t0 by preconnect.ts),
 * and a single FIFO of in-flight requests ordered by send time implements the request timeout,
 * gracefulStop hard cuts and abort without per-request timers.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client, Dispatcher } from 'undici';
import * as hdr from 'hdr-histogram-js';
import { SpilloverError } from '../errors.ts';
import { RAW, type LoadTick } from '../contracts/raw.ts';
import { arrivalTimes, vuSteps } from './schedule.ts';
import { SlotPool } from './slot-pool.ts';
import { resolveTarget } from './loopback.ts';
import { NdjsonSink } from './ndjson-sink.ts';
import { OriginConnections } from './connections.ts';
import { LoadMetrics } from './metrics.ts';
import { ProgressView } from './progress.ts';
import type { DriverOptions, LoadResult, ScenarioCounters } from './driver-options.ts';
import { isArrivalRate, scenarioDuration, totalDuration, type ArrivalRateSpec, type Scenario, type ScenarioSpec } from './types.ts';

/**
 * Per-second HDR latency histograms, one line per (second, scenario, origin of the latency):
 * `{t, scenario, from: "intended"|"sent", count, hdr}` with `hdr` in HdrHistogram's compressed base64
 * encoding, values in microseconds. Not (yet) named in raw.ts; see the load driver's report.
 */
export const LATENCY_HDR_FILE = RAW.latencyHdr;

export type { DriverOptions, LoadResult, ScenarioCounters } from './driver-options.ts';

/** `cut`: why the driver cut the request, recorded as the record's `cut` field (raw.ts). */
class RequestTimeout extends Error {
  readonly cut = 'timeout';
  constructor() {
    super('request timeout');
    this.name = 'RequestTimeout';
  }
}
class Interrupted extends Error {
  constructor(
    why: string,
    readonly cut: 'gracefulStop' | 'gracefulRampDown' | 'abort' | 'exit',
  ) {
    super(why);
    this.name = 'Interrupted';
  }
}

/** raw.ts error kinds from undici / Node errors. */
export function errorKind(e: unknown): string {
  if (e instanceof RequestTimeout) return 'timeout';
  if (e instanceof Interrupted) return 'aborted';
  const err = e as { code?: string; name?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'reset';
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
    case 'ABORT_ERR':
      return 'aborted';
  }
  if (err?.name === 'AbortError') return 'aborted';
  // OpenSSL's certificate and handshake failures (ERR_TLS_*, ERR_SSL_*, CERT_*, *_CERT*, EPROTO).
  if (code && /^(ERR_TLS_|ERR_SSL_|CERT_|EPROTO$)|CERT|_SIGNATURE$|SELF_SIGNED/.test(code)) return 'tls';
  return 'other';
}

interface RequestTemplate {
  pool: OriginConnections;
  path: string;
  method: string;
  headers: string[];
  body: string | null;
  /** `,"method":…,"url":…` precomputed for the record line. */
  tail: string;
}

interface VuState {
  index: number;
  it?: Iteration;
  rampDownDeadline?: number;
}

interface Iteration {
  run: ScenarioRun;
  iter: number;
  intendedMs: number;
  reqIdx: number;
  vu?: VuState;
  interrupted: boolean;
  current?: RequestHandler;
}

interface ScenarioRun {
  spec: ScenarioSpec;
  nameJson: string;
  templates: RequestTemplate[];
  startAbs: number;
  regularEnd: number;
  hardEnd: number;
  hardCutDone: boolean;
  slots?: SlotPool;
  gen?: Iterator<number>;
  nextDue: number;
  steps?: Array<[number, number]>;
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

/**
 * Within this many ms of the next due time the loop spins on setImmediate instead of sleeping: Node's
 * timers have 1 ms granularity and wake late. Measured on this (shared, oversubscribed) 2-core machine:
 * at 1000/s spinning gave p50 start lag 0.003-0.03 ms against 0.9-1.5 ms sleeping, at 3000/s the
 * spinning process was preempted more and did worse. Precision is the default; DriverOptions.spinMs = 0
 * trades it for less CPU.
 */
const SPIN_MS = 1.5;

/**
 * The "spin" sleeps in slices of at most NAP_MS (a futex wait with sub-ms precision, unlike timers) and
 * polls I/O between slices. Measured at 1000/s on the shared machine, three runs each: a pure
 * setImmediate spin used ~750 µs CPU per request (p50 lag 0.003 ms), napping ~270 µs (p50 lag
 * 0.08-0.11 ms); at 2000/s on a calmer machine p99 lag was 2.9-24 ms napping against 6.9-21 ms spinning.
 * p99 is dominated by other load on the machine either way. A response arriving during a slice is seen at
 * most NAP_MS late, which bounds the error this adds to recorded end times.
 */
const NAP_MS = 0.2;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number) => {
  if (ms > 0.02) Atomics.wait(napCell, 0, 0, Math.min(ms, NAP_MS));
};
/**
 * Connections per origin opened before t0 (preconnect.ts), at most one per initial slot. Measured on
 * nginx at 16k/s: none or 64 left the first 100 ms with 600-1000 dropped iterations (each new
 * connection's first request costs ~0.2-0.4 ms of this thread, which makes the run late, which needs
 * more connections); 256-300 left ~30.
 */
const PRECONNECT_MAX = 256;
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const newHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

/**
 * The last run started through runLoad (warm-up and rehearsal drivers are not), kept after it ended:
 * a forced exit between the driver's end and the caller's record of it still needs its counters.
 */
let lastRun: Driver | undefined;

/**
 * The process is exiting now (a second Ctrl-C): every request still in flight is cut and recorded
 * (`cut: "exit"`), so each started request has its record, and the counters say how many there were.
 * Synchronous; the caller flushes the sinks. Undefined when no run was started.
 */
export function cutEverythingForExit(): { started: number; completed: number } | undefined {
  return lastRun?.cutAllNow();
}

export async function runLoad(opts: DriverOptions): Promise<LoadResult> {
  // Scripts with logic run in the k6-compatible VU runtime; plain-data scenarios stay on this fast path.
  if (opts.scenario.vu) return (await import('./vu/engine.ts')).runVuLoad(opts);
  const driver = new Driver(opts);
  await driver.prepare();
  lastRun = driver;
  if (opts.t0Epoch === undefined) driver.setT0(Date.now());
  opts.onReady?.();
  return driver.run();
}

class Driver {
  private readonly runs: ScenarioRun[] = [];
  private readonly pools = new Map<string, OriginConnections>();
  private t0Epoch: number;
  private t0Perf = 0;
  private readonly timeoutMs: number;
  private requests!: NdjsonSink;
  private ticks!: NdjsonSink;
  private hdrSink!: NdjsonSink;
  private metrics?: LoadMetrics;
  private metricsPort?: number;
  private progress?: ProgressView;
  private readonly ridPrefix = crypto.randomBytes(4).toString('hex');
  private seq = 0;
  private inflight: RequestHandler[] = [];
  private inflightHead = 0;
  /**
   * True while sweep() walks the in-flight FIFO. A cut completes its request synchronously (undici
   * calls onError from abort), and requestDone must then not release the head: that would clear
   * entries the sweep is about to read (the TypeError of issue 11, when the oldest request was cut
   * while newer ones had already finished). sweep() releases the head itself when it is done.
   */
  private sweeping = false;
  private nextTickAbs = 0;
  private tickIndex = 0;
  private endAbs = 0;
  private aborting = false;
  private abortDeadline = Infinity;
  private finished = false;
  private timer?: NodeJS.Timeout;
  /** performance.now() of the next thing the scheduler must do; 0 = now. */
  private nextWake = 0;
  private immediate?: NodeJS.Immediate;
  private resolve!: (r: LoadResult) => void;
  private reject!: (e: unknown) => void;
  private readonly startLag = newHistogram();
  private onAbort?: () => void;

  constructor(private readonly opts: DriverOptions) {
    this.t0Epoch = opts.t0Epoch ?? Date.now();
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
  }

  setT0(epochMs: number): void {
    this.t0Epoch = epochMs;
  }

  /** Everything that can fail on bad input happens here, before any file is opened or request sent. */
  async prepare(warm = true): Promise<void> {
    const { scenario, connectTo, allowNonLoopback = false } = this.opts;
    let fixed: { address: string; port: number } | undefined;
    if (connectTo) {
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(connectTo);
      if (!m)
        throw new SpilloverError({
          path: 'connectTo',
          message: 'not a socket address',
          expected: 'host:port, e.g. 127.0.1.2:15001',
          found: connectTo,
        });
      fixed = await resolveTarget(m[1], Number(m[2]), allowNonLoopback, 'connectTo');
    }
    for (const spec of scenario.scenarios) {
      const templates: RequestTemplate[] = [];
      for (const [i, r] of spec.requests.entries()) {
        const url = new URL(r.url);
        const defaultPort = url.protocol === 'https:' ? 443 : 80;
        const target =
          fixed ??
          (await resolveTarget(
            url.hostname,
            Number(url.port || defaultPort),
            allowNonLoopback,
            `${scenario.file ?? 'scenario'} ${spec.name} requests[${i}].url`,
          ));
        const host = target.address.includes(':') ? `[${target.address}]` : target.address;
        const origin = `${url.protocol}//${host}:${target.port}`;
        let pool = this.pools.get(origin);
        if (!pool) {
          pool = new OriginConnections(origin, this.timeoutMs);
          this.pools.set(origin, pool);
        }
        const headers: string[] = ['host', url.host];
        for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() !== 'host') headers.push(k, v);
        for (const [k, v] of Object.entries(r.headers ?? {})) if (k.toLowerCase() === 'host') headers[1] = v;
        templates.push({
          pool,
          path: url.pathname + url.search,
          method: r.method,
          headers,
          body: r.body ?? null,
          tail: `,"method":${JSON.stringify(r.method)},"url":${JSON.stringify(r.url)}`,
        });
      }
      this.runs.push({
        spec,
        nameJson: JSON.stringify(spec.name),
        templates,
        startAbs: 0,
        regularEnd: 0,
        hardEnd: 0,
        hardCutDone: false,
        slots: isArrivalRate(spec) ? new SlotPool(spec.preAllocatedVUs, spec.maxVUs) : undefined,
        nextDue: Infinity,
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
          allocated: isArrivalRate(spec) ? spec.preAllocatedVUs : 0,
        },
        tick: { target: 0, started: 0, dropped: 0, errors: 0 },
        hdrIntended: newHistogram(),
        hdrSent: newHistogram(),
      });
    }
    if (this.opts.metricsPort !== undefined) {
      this.metrics = new LoadMetrics();
      // Series exist from the start (a counter that never moved is still 0, not absent).
      for (const spec of scenario.scenarios) {
        this.metrics.dropped.inc({ scenario: spec.name }, 0);
        this.metrics.iterations.inc({ scenario: spec.name }, 0);
        this.metrics.httpReqFailed.inc({ scenario: spec.name }, 0);
      }
      this.metricsPort = await this.metrics.listen(this.opts.metricsPort);
      this.opts.onMetricsListening?.(this.metricsPort);
    }
    if (this.opts.live ?? process.stderr.isTTY) this.progress = new ProgressView();
    if (warm) await warmUp();
    const preconnect = Math.min(PRECONNECT_MAX, this.initialSlots());
    await Promise.all([...this.pools.values()].map((p) => p.preconnect(preconnect)));
  }

  /** Slots that exist when the run starts: pre-allocated VUs of arrival-rate scenarios, peak VUs of the others. */
  private initialSlots(): number {
    let n = 0;
    for (const s of this.opts.scenario.scenarios) {
      n += isArrivalRate(s) ? s.preAllocatedVUs : peakVus(s);
    }
    return Math.max(1, n);
  }

  run(): Promise<LoadResult> {
    const { runDir } = this.opts;
    this.requests = new NdjsonSink(path.join(runDir, RAW.requests));
    this.ticks = new NdjsonSink(path.join(runDir, RAW.loadTicks));
    this.hdrSink = new NdjsonSink(path.join(runDir, LATENCY_HDR_FILE));
    this.t0Perf = this.t0Epoch - performance.timeOrigin;
    for (const run of this.runs) {
      const s = run.spec;
      run.startAbs = this.t0Perf + s.startTime * 1000;
      run.regularEnd = run.startAbs + scenarioDuration(s) * 1000;
      run.hardEnd = run.regularEnd + s.gracefulStop * 1000;
      if (run.slots) {
        run.gen = arrivalTimes(s);
        this.advance(run);
      } else {
        run.steps = vuSteps(s).map(([t, v]) => [run.startAbs + t * 1000, v]);
      }
    }
    this.endAbs = this.t0Perf + totalDuration(this.opts.scenario) * 1000;
    this.nextTickAbs = this.t0Perf + 1000;
    this.tickIndex = 1;
    const signal = this.opts.signal;
    if (signal) {
      this.onAbort = () => this.startAbort();
      if (signal.aborted) this.aborting = true;
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (this.aborting) this.abortDeadline = performance.now();
    return new Promise<LoadResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.wakeSoon();
    });
  }

  private startAbort(): void {
    if (this.aborting || this.finished) return;
    this.aborting = true;
    this.abortDeadline = performance.now() + (this.opts.abortGraceMs ?? 1000);
    this.wakeSoon();
  }

  private wakeSoon(): void {
    this.nextWake = 0;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.immediate) this.immediate = setImmediate(this.pump);
  }

  private advance(run: ScenarioRun): void {
    const r = run.gen!.next();
    run.nextDue = r.done ? Infinity : run.startAbs + r.value * 1000;
  }

  private readonly pump = (): void => {
    this.immediate = undefined;
    this.timer = undefined;
    // Spinning towards the next due time: a clock read per turn, not a full scheduler turn.
    const wait = this.nextWake - performance.now();
    if (wait > 0) {
      nap(wait);
      this.immediate = setImmediate(this.pump);
      return;
    }
    try {
      this.turn();
    } catch (e) {
      this.fail(e);
    }
  };

  /** Earliest due arrival-rate iteration (performance.now() ms), or Infinity. */
  private nextDueAbs = Infinity;

  /** Fires arrival-rate iterations due by `now` without crossing the next tick boundary (ticks count per second). */
  private catchUp(now: number): void {
    const bound = Math.min(now, this.nextTickAbs);
    let next = Infinity;
    for (const run of this.runs) {
      if (!run.slots) continue;
      while (run.nextDue <= bound) {
        this.fireArrival(run, run.nextDue);
        this.advance(run);
      }
      if (run.nextDue < next) next = run.nextDue;
    }
    this.nextDueAbs = next;
  }

  private turn(): void {
    let now = performance.now();
    for (const run of this.runs) {
      if (run.slots?.completeGrowth()) {
        run.counters.allocated = run.slots.allocated;
      }
    }
    for (;;) {
      const bound = Math.min(now, this.nextTickAbs);
      if (!this.aborting) {
        for (const run of this.runs) {
          if (run.slots) {
            while (run.nextDue <= bound) {
              this.fireArrival(run, run.nextDue);
              this.advance(run);
            }
          } else {
            while (run.stepIdx < run.steps!.length && run.steps![run.stepIdx][0] <= bound) this.applyStep(run, now);
          }
        }
      }
      if (this.nextTickAbs > now) break;
      this.emitTick();
      now = performance.now();
    }
    this.sweep(now);
    if (this.isComplete(now)) {
      this.finish();
      return;
    }
    this.requests.maybeFlush(now);
    this.ticks.maybeFlush(now);
    this.scheduleNext(now);
  }

  private scheduleNext(now: number): void {
    let nextDue = Infinity;
    for (const run of this.runs) if (run.slots && run.nextDue < nextDue) nextDue = run.nextDue;
    this.nextDueAbs = this.aborting ? Infinity : nextDue;
    let next = this.nextTickAbs;
    if (!this.aborting) {
      for (const run of this.runs) {
        if (run.nextDue < next) next = run.nextDue;
        if (run.steps && run.stepIdx < run.steps.length && run.steps[run.stepIdx][0] < next) next = run.steps[run.stepIdx][0];
        if (!run.hardCutDone && run.hardEnd < next && run.inflightIterations > 0) next = run.hardEnd;
        if (now < run.regularEnd && run.regularEnd < next) next = run.regularEnd;
        if (run.slots?.growthPending) next = now;
        if (run.rampDownsPending > 0) {
          for (const vu of run.vus) if (vu.rampDownDeadline !== undefined && vu.rampDownDeadline < next) next = vu.rampDownDeadline;
        }
      }
    } else if (this.abortDeadline < next) next = this.abortDeadline;
    // In-flight requests need the timeout sweep (due when the oldest one expires) and the end-of-run check.
    if (this.inflight.length > this.inflightHead) {
      const oldestExpiry = this.inflight[this.inflightHead].sentMs + this.timeoutMs;
      if (oldestExpiry < next) next = oldestExpiry;
      if (next > now + 50) next = now + 50;
    }
    this.nextWake = next;
    const delta = next - performance.now();
    if (delta > (this.opts.spinMs ?? SPIN_MS)) this.timer = setTimeout(this.pump, Math.max(1, delta - 1.2));
    else {
      nap(delta);
      this.immediate = setImmediate(this.pump);
    }
  }

  private fireArrival(run: ScenarioRun, due: number): void {
    const slots = run.slots!;
    run.dueSeq++;
    run.tick.target++;
    if (!slots.tryAcquire()) {
      run.counters.dropped++;
      run.tick.dropped++;
      this.metrics?.dropped.inc({ scenario: run.spec.name });
      return;
    }
    this.startIteration(run, due, undefined, run.dueSeq - 1);
  }

  private applyStep(run: ScenarioRun, now: number): void {
    const [at, target] = run.steps![run.stepIdx++];
    const prev = run.targetVus;
    run.targetVus = target;
    if (target > run.counters.allocated) run.counters.allocated = target;
    for (let i = run.vus.length; i < target; i++) run.vus.push({ index: i });
    if (target > prev) {
      for (let i = prev; i < target; i++) {
        const vu = run.vus[i];
        if (vu.rampDownDeadline !== undefined) {
          vu.rampDownDeadline = undefined;
          run.rampDownsPending--;
        }
        if (!vu.it && now < run.regularEnd) this.startIteration(run, Math.max(at, now), vu);
      }
    } else if (target < prev && at < run.regularEnd && run.spec.executor === 'ramping-vus') {
      // A VU removed mid-test may finish its iteration for gracefulRampDown, then it is cut.
      for (let i = target; i < prev; i++) {
        const vu = run.vus[i];
        if (vu.it) {
          vu.rampDownDeadline = at + run.spec.gracefulRampDown * 1000;
          run.rampDownsPending++;
        }
      }
    }
  }

  /** `iter`: arrival-rate iterations are numbered by due index (dropped ones included), so records join with the plan. */
  private startIteration(run: ScenarioRun, intendedMs: number, vu: VuState | undefined, iter = run.iterSeq++): void {
    const it: Iteration = { run, iter, intendedMs, reqIdx: 0, vu, interrupted: false };
    if (vu) vu.it = it;
    run.counters.iterations++;
    run.tick.started++;
    run.inflightIterations++;
    this.send(it);
  }

  private send(it: Iteration): void {
    const run = it.run;
    const tpl = run.templates[it.reqIdx];
    const id = ++this.seq;
    const rid = `${this.ridPrefix}-${id}`;
    const sentMs = performance.now();
    const h = new RequestHandler(this, it, id, rid, sentMs);
    it.current = h;
    run.counters.started++;
    this.inflight.push(h);
    if (it.reqIdx === 0 && run.slots) this.startLag.recordValue(Math.max(1, Math.round((sentMs - it.intendedMs) * 1000)));
    const headers = tpl.headers.slice();
    headers.push('x-request-id', rid);
    h.client = tpl.pool.dispatch(
      { path: tpl.path, method: tpl.method as Dispatcher.HttpMethod, headers, body: tpl.body },
      h as unknown as Dispatcher.DispatchHandler,
    );
  }

  /** Called by the handler exactly once per request. */
  requestDone(h: RequestHandler, endMs: number, status: number, err: unknown): void {
    const it = h.it;
    const run = it.run;
    const c = run.counters;
    c.completed++;
    const pool = run.templates[it.reqIdx].pool;
    // After an error undici is still failing this connection's queue when it calls back; a request
    // dispatched onto it from here (the catch-up below, or the iteration's next request) would break
    // undici's own bookkeeping (an assertion in Client onError). So it becomes idle a moment later.
    if (err === undefined && status >= 400 && this.opts.reconnectOnError) pool.discard(h.client!);
    else if (err === undefined) pool.release(h.client!);
    else queueMicrotask(() => pool.release(h.client!));
    if (!this.sweeping && this.inflight[this.inflightHead] === h) this.releaseHead();
    const intendedMs = it.reqIdx === 0 ? it.intendedMs : h.sentMs;
    const kind = err === undefined ? undefined : errorKind(err);
    const ok = status >= 200 && status < 400;
    if (ok) c.ok++;
    else {
      c.failed++;
      run.tick.errors++;
    }
    const t0 = this.t0Perf;
    let line = `{"id":${h.id},"scenario":${run.nameJson},"iter":${it.iter},"intended":${r6((intendedMs - t0) / 1000)},"sent":${r6((h.sentMs - t0) / 1000)},"end":${r6((endMs - t0) / 1000)},"status":${status}`;
    if (kind) {
      line += `,"error":"${kind}"`;
      if (err instanceof RequestTimeout || err instanceof Interrupted) line += `,"cut":"${err.cut}"`;
    }
    if (h.service !== undefined) line += `,"service":${JSON.stringify(h.service)}`;
    if (h.instance !== undefined) line += `,"instance":${JSON.stringify(h.instance)}`;
    if (h.envoy !== undefined) line += `,"envoy":"${h.envoy}"`;
    line += `,"rid":"${h.rid}"${run.templates[it.reqIdx].tail}}`;
    this.requests.write(line);
    run.hdrIntended.recordValue(Math.max(1, Math.round((endMs - intendedMs) * 1000)));
    run.hdrSent.recordValue(Math.max(1, Math.round((endMs - h.sentMs) * 1000)));
    if (this.metrics) {
      this.metrics.httpReqs.inc({ scenario: run.spec.name, status: String(status) });
      if (!ok) this.metrics.httpReqFailed.inc({ scenario: run.spec.name });
      this.metrics.duration.observe({ scenario: run.spec.name }, (endMs - h.sentMs) / 1000);
      this.metrics.durationIntended.observe({ scenario: run.spec.name }, (endMs - intendedMs) / 1000);
    }
    if (kind === 'aborted' && err instanceof Interrupted) it.interrupted = true;
    it.current = undefined;
    // Fire anything that fell due while this event-loop turn was busy with responses, so a long poll
    // phase does not make the next iterations late by its whole length.
    if (endMs >= this.nextDueAbs && !this.aborting) this.catchUp(endMs);
    it.reqIdx++;
    if (!it.interrupted && !this.aborting && it.reqIdx < run.templates.length) {
      this.send(it);
      return;
    }
    this.iterationDone(it, endMs);
  }

  private iterationDone(it: Iteration, now: number): void {
    const run = it.run;
    run.inflightIterations--;
    if (it.interrupted || it.reqIdx < run.templates.length) run.counters.interrupted++;
    else {
      run.counters.iterationsCompleted++;
      this.metrics?.iterations.inc({ scenario: run.spec.name });
    }
    if (run.slots) {
      run.slots.release();
      return;
    }
    const vu = it.vu!;
    vu.it = undefined;
    if (vu.rampDownDeadline !== undefined) {
      vu.rampDownDeadline = undefined;
      run.rampDownsPending--;
    }
    // Closed loop: a VU starts its next iteration as soon as the previous one ends.
    if (!this.aborting && !this.finished && vu.index < run.targetVus && now < run.regularEnd) this.startIteration(run, now, vu);
  }

  /**
   * Drop finished handlers from the front of the in-flight FIFO. Left referenced, thousands of dead
   * handlers survive every scavenge and the GC cost per request doubles.
   */
  private releaseHead(): void {
    const q = this.inflight;
    while (this.inflightHead < q.length && q[this.inflightHead].done) q[this.inflightHead++] = undefined as never;
  }

  /** Timeouts, gracefulStop hard cuts, gracefulRampDown cuts and the post-abort cut; O(expired) per call. */
  private sweep(now: number): void {
    this.sweeping = true;
    try {
      this.cutExpired(now);
    } finally {
      this.sweeping = false;
    }
    this.releaseHead();
  }

  /**
   * Entries are never cleared while this runs (see `sweeping`), and the array is not replaced, so every
   * index between the head and the end stays a handler; a cut may append (the catch-up it triggers).
   */
  private cutExpired(now: number): void {
    this.releaseHead();
    const q = this.inflight;
    if (this.inflightHead > 4096 && this.inflightHead * 2 > q.length) {
      this.inflight = q.slice(this.inflightHead);
      this.inflightHead = 0;
    }
    const live = this.inflight;
    const expiry = now - this.timeoutMs;
    // A cut request can release the head (releaseHead), which blanks the done entries after it: skip blanks.
    for (let i = this.inflightHead; i < live.length && (!live[i] || live[i].sentMs <= expiry); i++)
      if (live[i] && !live[i].done) live[i].cut(new RequestTimeout());
    for (const run of this.runs) {
      if (!run.hardCutDone && now >= run.hardEnd) {
        run.hardCutDone = true;
        for (let i = this.inflightHead; i < live.length; i++)
          if (live[i] && !live[i].done && live[i].it.run === run) live[i].cut(new Interrupted('gracefulStop ended', 'gracefulStop'));
      }
      if (run.rampDownsPending > 0) {
        for (const vu of run.vus) {
          if (vu.rampDownDeadline !== undefined && now >= vu.rampDownDeadline && vu.it?.current && !vu.it.current.done) {
            vu.it.current.cut(new Interrupted('gracefulRampDown ended', 'gracefulRampDown'));
          }
        }
      }
    }
    if (this.aborting && now >= this.abortDeadline) {
      for (let i = this.inflightHead; i < live.length; i++)
        if (live[i] && !live[i].done) live[i].cut(new Interrupted('run aborted', 'abort'));
    }
  }

  private isComplete(now: number): boolean {
    for (const run of this.runs) {
      if (run.inflightIterations > 0) return false;
      if (!this.aborting && (run.nextDue !== Infinity || now < run.regularEnd)) return false;
    }
    return true;
  }

  private emitTick(): void {
    const t = this.tickIndex;
    this.writeTicks(t);
    this.tickIndex++;
    this.nextTickAbs += 1000;
  }

  private writeTicks(t: number): void {
    let target = 0,
      achieved = 0,
      errors = 0,
      dropped = 0,
      active = 0,
      allocated = 0;
    for (const run of this.runs) {
      const startSec = run.spec.startTime;
      if (t <= startSec && run.tick.target === 0 && run.tick.started === 0) continue;
      const busy = run.slots ? run.slots.busy : run.inflightIterations;
      const alloc = run.slots ? run.slots.allocated : run.counters.allocated;
      const tick: LoadTick = {
        t,
        scenario: run.spec.name,
        target: run.slots ? run.tick.target : run.tick.started,
        started: run.tick.started,
        dropped: run.tick.dropped,
        active: busy,
        allocated: alloc,
      };
      this.ticks.writeObject(tick);
      for (const [from, h] of [
        ['intended', run.hdrIntended],
        ['sent', run.hdrSent],
      ] as const) {
        if (h.totalCount > 0) {
          this.hdrSink.writeObject({ t, scenario: run.spec.name, from, count: h.totalCount, hdr: hdr.encodeIntoCompressedBase64(h) });
          h.reset();
        }
      }
      if (this.metrics) {
        this.metrics.vus.set({ scenario: run.spec.name }, busy);
        this.metrics.vusMax.set({ scenario: run.spec.name }, alloc);
        this.metrics.targetRate.set({ scenario: run.spec.name }, tick.target);
      }
      target += tick.target;
      achieved += run.tick.started;
      errors += run.tick.errors;
      dropped += run.tick.dropped;
      active += busy;
      allocated += alloc;
      run.tick = { target: 0, started: 0, dropped: 0, errors: 0 };
    }
    this.hdrSink.flush();
    this.progress?.update({ elapsed: t, total: (this.endAbs - this.t0Perf) / 1000, target, achieved, errors, dropped, active, allocated });
  }

  /** See cutEverythingForExit. */
  cutAllNow(): { started: number; completed: number } {
    this.aborting = true;
    const now = performance.now();
    this.sweeping = true;
    try {
      // An ended run has nothing in flight, or (failed) its files are closed: only its counters are wanted.
      const q = this.finished ? [] : this.inflight;
      for (let i = this.inflightHead; i < q.length; i++) {
        const h = q[i];
        if (h.done) continue;
        h.done = true;
        this.requestDone(h, now, 0, new Interrupted('process exit', 'exit'));
      }
    } finally {
      this.sweeping = false;
    }
    let started = 0;
    let completed = 0;
    for (const run of this.runs) {
      started += run.counters.started;
      completed += run.counters.completed;
    }
    return { started, completed };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const endT = (performance.now() - this.t0Perf) / 1000;
    if (endT > this.tickIndex - 1) this.writeTicks(Math.max(this.tickIndex, Math.ceil(endT)));
    this.progress?.done();
    if (this.opts.signal && this.onAbort) this.opts.signal.removeEventListener('abort', this.onAbort);
    const closeAll = async () => {
      this.requests.close();
      this.ticks.close();
      this.hdrSink.close();
      await Promise.all([...this.pools.values()].map((p) => p.destroy()));
      await this.metrics?.close();
    };
    closeAll().then(
      () => this.resolve(this.result()),
      (e) => this.reject(e),
    );
  }

  private fail(e: unknown): void {
    this.finished = true;
    try {
      this.requests.close();
      this.ticks.close();
      this.hdrSink.close();
    } catch {
      /* the original error matters more */
    }
    for (const p of this.pools.values()) void p.destroy();
    this.metrics?.close().catch(() => undefined);
    this.reject(e);
  }

  private result(): LoadResult {
    const scenarios: Record<string, ScenarioCounters> = {};
    const sum: Omit<ScenarioCounters, 'allocated'> = {
      iterations: 0,
      iterationsCompleted: 0,
      interrupted: 0,
      dropped: 0,
      started: 0,
      completed: 0,
      ok: 0,
      failed: 0,
    };
    for (const run of this.runs) {
      scenarios[run.spec.name] = { ...run.counters };
      for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += run.counters[k];
    }
    const lag = this.startLag;
    return {
      ...sum,
      t0Epoch: this.t0Epoch,
      aborted: this.aborting,
      scenarios,
      metricsPort: this.metricsPort,
      startLagMs:
        lag.totalCount === 0
          ? { count: 0, p50: 0, p99: 0, max: 0 }
          : {
              count: lag.totalCount,
              p50: lag.getValueAtPercentile(50) / 1000,
              p99: lag.getValueAtPercentile(99) / 1000,
              max: lag.maxValue / 1000,
            },
      files: {
        requests: path.join(this.opts.runDir, RAW.requests),
        loadTicks: path.join(this.opts.runDir, RAW.loadTicks),
        latencyHdr: path.join(this.opts.runDir, LATENCY_HDR_FILE),
      },
    };
  }
}

let warmedUp = false;

/** A service behind Envoy, as far as the driver can tell: identity headers, sometimes overloaded, no Keep-Alive header. */
const WARM_UP_SERVER = `const http = require('node:http');
const { parentPort } = require('node:worker_threads');
let n = 0;
const server = http.createServer((req, res) => {
  n++;
  req.resume();
  res.setHeader('server', 'envoy');
  res.setHeader('content-type', 'text/plain');
  res.setHeader('x-spillover-service', n % 2 ? 'A' : 'B');
  res.setHeader('x-spillover-instance', n % 2 ? 'a-0' : 'b-0');
  if (n % 50 === 0) res.writeHead(503, { 'x-envoy-overloaded': 'true' });
  res.end('ok\\n');
});
server.keepAliveTimeout = 0;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`;

/** Runs `fn` with a warm-up server (see WARM_UP_SERVER) listening on 127.0.0.1, on a thread of its own. */
async function withWarmUpServer<T>(fn: (origin: string) => Promise<T>): Promise<T> {
  const server = new Worker(WARM_UP_SERVER, { eval: true });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', resolve);
      server.once('error', reject);
    });
    return await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.terminate();
  }
}

/** Runs each list of scenarios once, in turn, through a Driver writing to a throw-away directory. */
async function runPrivately(rounds: ScenarioSpec[][]): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-warm-up-'));
  try {
    for (const scenarios of rounds) {
      const driver = new Driver({ scenario: { timeScale: 1, warnings: [], scenarios }, runDir, live: false, requestTimeoutMs: 5000 });
      await driver.prepare(false);
      driver.setT0(Date.now() + 20);
      await driver.run();
      fs.rmSync(path.join(runDir, 'raw'), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * The first requests of a process are slow: undici compiles its llhttp WebAssembly parser on the first
 * connection, and V8 has neither type feedback nor optimised code for the hot path. Measured at 28k/s
 * against nginx, a cold process dropped 800-2000 iterations in its first 300 ms of load, where one that
 * had already run 0.1 s of real load dropped 100-400. So the driver first runs against a private server
 * on a thread of its own (on this thread it would take turns with the driver and hold the rate down),
 * which answers like a service behind Envoy: identity headers, now and then an overloaded 503, no
 * Keep-Alive header. The target sees no traffic outside the schedule. Twice, differently shaped: field
 * types and maps that a second Driver generalises (deoptimising every function that depends on them)
 * are generalised here rather than at a real run's start.
 */
/** Idempotent; runLoad calls it, callers that fix t0Epoch before runLoad may call it earlier. */
export async function warmUp(): Promise<void> {
  if (warmedUp) return;
  // The per-second histogram encoding loads its compressor lazily on first use.
  const h = newHistogram();
  h.recordValue(1000);
  hdr.encodeIntoCompressedBase64(h);
  await withWarmUpServer(async (origin) => {
    const url = `${origin}/warm-up?x=1`;
    const base = { timeUnit: 1, startTime: 0, gracefulStop: 1, exec: 'default', env: {} };
    const ramp: ScenarioSpec = {
      ...base,
      name: 'ramp',
      executor: 'ramping-arrival-rate',
      startRate: 1000,
      stages: [{ duration: 0.35, target: 24000 }],
      preAllocatedVUs: 2,
      maxVUs: 256,
      requests: [{ method: 'GET', url }],
    };
    const post: ScenarioSpec = {
      ...base,
      name: 'post',
      executor: 'constant-arrival-rate',
      rate: 2000,
      duration: 0.35,
      preAllocatedVUs: 16,
      maxVUs: 16,
      requests: [{ method: 'POST', url, body: '{}', headers: { 'content-type': 'application/json' } }],
    };
    const constant: ScenarioSpec = {
      ...base,
      name: 'constant',
      executor: 'constant-arrival-rate',
      rate: 12000,
      duration: 0.2,
      preAllocatedVUs: 256,
      maxVUs: 256,
      requests: [{ method: 'GET', url }],
    };
    await runPrivately([[ramp, post], [constant]]);
  });
  warmedUp = true;
}

/** Most VUs a VU-based scenario runs at once. */
const peakVus = (s: Exclude<ScenarioSpec, ArrivalRateSpec>) =>
  s.executor === 'ramping-vus' ? Math.max(s.startVUs, ...s.stages.map((st) => st.target)) : s.vus;

/** Highest iteration rate an arrival-rate scenario asks for, per second. */
const peakRate = (s: ArrivalRateSpec) =>
  (s.executor === 'constant-arrival-rate' ? s.rate : Math.max(s.startRate, ...s.stages.map((st) => st.target))) / s.timeUnit;

/**
 * A rehearsal of `scenario` against the private warm-up server, for callers that can afford it before
 * they fix time zero (driver-thread.ts does): the same requests (method, path, headers, body, the
 * target's Host), the same kind of executor and slot pool, 0.25 s at the scenario's peak rate (at most
 * 24k/s). It gives V8 the type feedback of this very run, so the run does not start by deoptimising.
 * Measured with `npm run bench:driver` (each trial a fresh driver thread, against nginx): without it,
 * p99 start lag was 0.99-1.09 ms at every rate from 2k to 48k/s; with it, 0.31-0.84 ms up to 32k/s.
 */
export async function rehearse(scenario: Scenario): Promise<void> {
  await warmUp();
  // The VU runtime initialises the script's VUs instead (k6 does that before the test starts too).
  if (scenario.vu) return (await import('./vu/engine.ts')).prewarmVuRun(scenario);
  await withWarmUpServer(async (origin) => {
    const specs = scenario.scenarios.map((s): ScenarioSpec => {
      const requests = s.requests.map((r) => {
        const u = new URL(r.url);
        const headers = { host: u.host, ...(r.headers ?? {}) };
        return { ...r, url: `${origin}${u.pathname}${u.search}`, headers };
      });
      const common = { name: s.name, startTime: 0, gracefulStop: 1, exec: s.exec, env: s.env, requests };
      if (isArrivalRate(s)) {
        const slots = Math.min(256, s.maxVUs);
        return {
          ...common,
          executor: 'constant-arrival-rate',
          rate: Math.max(1, Math.round(Math.min(24000, peakRate(s)))),
          timeUnit: 1,
          duration: 0.25,
          preAllocatedVUs: Math.min(slots, s.preAllocatedVUs),
          maxVUs: slots,
        };
      }
      return { ...common, executor: 'constant-vus', vus: Math.max(1, Math.min(64, peakVus(s))), duration: 0.25 };
    });
    await runPrivately([specs]);
  });
}

/** Response headers the record keeps, by the length of their lower-case name (the only ones decoded). */
const KEPT_HEADERS = new Map<number, string[]>();
for (const h of [
  'x-spillover-service',
  'x-spillover-instance',
  'x-envoy-overloaded',
  'x-envoy-ratelimited',
  'x-envoy-immediate-health-check-fail',
]) {
  KEPT_HEADERS.set(h.length, [...(KEPT_HEADERS.get(h.length) ?? []), h]);
}

/**
 * undici dispatch handler for one request: keeps the identity headers and reports the end once.
 * It implements undici's own (v7 "legacy") hooks, which its Client calls directly: the newer
 * onRequestStart/onResponseStart form goes through a wrapper that allocates a controller and decodes
 * every header and trailer into an object for each request — measurable at tens of thousands per second.
 */
class RequestHandler {
  done = false;
  status = 0;
  client?: Client;
  service?: string;
  instance?: string;
  envoy?: string;
  private abort?: (reason: Error) => void;
  private pendingCut?: Error;

  constructor(
    private readonly driver: Driver,
    readonly it: Iteration,
    readonly id: number,
    readonly rid: string,
    readonly sentMs: number,
  ) {}

  cut(reason: Error): void {
    if (this.done) return;
    if (this.abort) this.abort(reason);
    else this.pendingCut = reason;
  }

  onConnect(abort: (reason: Error) => void): void {
    this.abort = abort;
    if (this.pendingCut) abort(this.pendingCut);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const candidates = KEPT_HEADERS.get(rawHeaders[i].length);
      if (!candidates) continue;
      const name = rawHeaders[i].toString('latin1').toLowerCase();
      if (!candidates.includes(name)) continue;
      const value = rawHeaders[i + 1].toString('latin1');
      switch (name) {
        case 'x-spillover-service':
          this.service = this.service === undefined ? value : `${this.service},${value}`;
          break;
        case 'x-spillover-instance':
          this.instance = this.instance === undefined ? value : `${this.instance},${value}`;
          break;
        default: {
          const flag = name === 'x-envoy-overloaded' ? 'overloaded' : name === 'x-envoy-ratelimited' ? 'ratelimited' : 'health-check-fail';
          if (!this.envoy?.split(',').includes(flag)) this.envoy = this.envoy ? `${this.envoy},${flag}` : flag;
        }
      }
    }
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.driver.requestDone(this, performance.now(), this.status, undefined);
  }

  onError(error: Error): void {
    if (this.done) return;
    this.done = true;
    // A response cut after its headers still counts as failed: no complete HTTP response.
    this.driver.requestDone(this, performance.now(), 0, error);
  }
}

// Warm up when the module is first imported: callers (the run orchestration) import the driver
// before fixing scenario time zero, so the warm-up never eats into the schedule.
await warmUp();
