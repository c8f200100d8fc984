/**
 * The fast path's driver: runs a plain-data scenario with k6's executor semantics against real HTTP
 * servers into the run directory (src/contracts/raw.ts). driver.ts is its entry (runLoad).
 *
 * One scheduler loop (scheduler.ts) calls turn(), which fires every due iteration (executors/*-loop.ts);
 * iterations that fall due while responses are being handled are fired from the response callbacks
 * (catchUp), so a busy poll phase does not delay them. When late it fires everything overdue at once
 * (k6 catches up, never skips). Requests go through undici's dispatcher API (request-handler.ts), one
 * keep-alive connection per in-flight iteration like a k6 VU (connections.ts, preconnect.ts); one FIFO
 * (inflight.ts) implements the request timeout, gracefulStop hard cuts and abort.
 */
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { OriginConnections } from './connections.ts';
import type { DriverOptions, LoadResult } from './driver-options.ts';
import { advance, fireDue, type IterationStarter } from './executors/arrival-rate-loop.ts';
import { initialSlots } from './executors/registry.ts';
import { applySteps, cutRampedDown, vuIterationDone } from './executors/vu-loop.ts';
import { InflightQueue } from './inflight.ts';
import { LoadMetrics } from './metrics.ts';
import { ProgressView } from './progress.ts';
import { errorKind, Interrupted, RequestTimeout } from './request-errors.ts';
import { RequestHandler, type ResponseListener } from './request-handler.ts';
import { recordLine } from './request-record.ts';
import { requestTemplates, resolveConnectTo } from './request-templates.ts';
import { driverResult, requestCounts, RunOutputs } from './run-outputs.ts';
import { earliestDue, runsNextEvent, withInflight } from './next-wake.ts';
import { newHistogram, newRun, type Iteration, type ScenarioRun, type VuState } from './scenario-run.ts';
import { arrivalTimes, vuSteps } from './schedule.ts';
import { Scheduler } from './scheduler.ts';
import { scenarioDuration, totalDuration } from './types.ts';

/**
 * Connections per origin opened before t0 (preconnect.ts), at most one per initial slot. Measured on
 * nginx at 16k/s: none or 64 left the first 100 ms with 600-1000 dropped iterations (each new
 * connection's first request costs ~0.2-0.4 ms of this thread, which makes the run late, which needs
 * more connections); 256-300 left ~30.
 */
const PRECONNECT_MAX = 256;
const timeoutCut = () => new RequestTimeout();
const gracefulStopCut = () => new Interrupted('gracefulStop ended', 'gracefulStop');
const abortCut = () => new Interrupted('run aborted', 'abort');

export class Driver implements ResponseListener, IterationStarter {
  private readonly runs: ScenarioRun[] = [];
  private readonly pools = new Map<string, OriginConnections>();
  private t0Epoch: number;
  private t0Perf = 0;
  private readonly timeoutMs: number;
  private readonly reconnectOnError: boolean;
  private out!: RunOutputs;
  private metrics?: LoadMetrics;
  private metricsPort?: number;
  private progress?: ProgressView;
  private readonly ridPrefix = crypto.randomBytes(4).toString('hex');
  private seq = 0;
  private readonly inflight = new InflightQueue();
  private nextTickAbs = 0;
  private tickIndex = 0;
  private aborting = false;
  private abortDeadline = Infinity;
  private finished = false;
  private readonly scheduler: Scheduler;
  private resolve!: (r: LoadResult) => void;
  private reject!: (e: unknown) => void;
  private readonly startLag = newHistogram();
  private onAbort?: () => void;
  /** Earliest due arrival-rate iteration (performance.now() ms), or Infinity. */
  private nextDueAbs = Infinity;

  constructor(private readonly opts: DriverOptions) {
    this.t0Epoch = opts.t0Epoch ?? Date.now();
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.reconnectOnError = opts.reconnectOnError ?? false;
    this.scheduler = new Scheduler(
      () => this.turn(),
      (e) => this.fail(e),
      opts.spinMs,
    );
  }

  setT0(epochMs: number): void {
    this.t0Epoch = epochMs;
  }

  /** Everything that can fail on bad input happens here, before any file is opened or request sent. */
  async prepare(): Promise<void> {
    const { scenario, connectTo, allowNonLoopback = false } = this.opts;
    const fixed = await resolveConnectTo(connectTo, allowNonLoopback);
    const ctx = { scenario, fixed, allowNonLoopback, pools: this.pools, connectTimeoutMs: this.timeoutMs };
    for (const spec of scenario.scenarios) this.runs.push(newRun(spec, await requestTemplates(spec, ctx)));
    if (this.opts.metricsPort !== undefined) {
      this.metrics = new LoadMetrics();
      this.metrics.startSeries(scenario.scenarios.map((s) => s.name));
      this.metricsPort = await this.metrics.listen(this.opts.metricsPort);
      this.opts.onMetricsListening?.(this.metricsPort);
    }
    if (this.opts.live ?? process.stderr.isTTY) this.progress = new ProgressView();
  }

  /** Opens connections before t0, at most one per slot that exists when the run starts. */
  async preconnect(): Promise<void> {
    let slots = 0;
    for (const s of this.opts.scenario.scenarios) slots += initialSlots(s);
    const n = Math.min(PRECONNECT_MAX, Math.max(1, slots));
    await Promise.all([...this.pools.values()].map((p) => p.preconnect(n)));
  }

  run(): Promise<LoadResult> {
    this.out = new RunOutputs(this.opts.runDir, this.metrics, this.progress, totalDuration(this.opts.scenario));
    this.t0Perf = this.t0Epoch - performance.timeOrigin;
    for (const run of this.runs) {
      const s = run.spec;
      run.startAbs = this.t0Perf + s.startTime * 1000;
      run.regularEnd = run.startAbs + scenarioDuration(s) * 1000;
      run.hardEnd = run.regularEnd + s.gracefulStop * 1000;
      if (run.slots) {
        run.gen = arrivalTimes(s);
        advance(run);
      } else {
        run.steps = vuSteps(s).map(([t, v]) => [run.startAbs + t * 1000, v]);
      }
    }
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
      this.scheduler.wakeSoon();
    });
  }

  private startAbort(): void {
    if (this.aborting || this.finished) return;
    this.aborting = true;
    this.abortDeadline = performance.now() + (this.opts.abortGraceMs ?? 1000);
    this.scheduler.wakeSoon();
  }

  /** Fires arrival-rate iterations due by `now` without crossing the next tick boundary (ticks count per second). */
  private catchUp(now: number): void {
    const bound = Math.min(now, this.nextTickAbs);
    let next = Infinity;
    for (const run of this.runs) {
      if (!run.slots) continue;
      fireDue(run, bound, this, this.metrics);
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
          if (run.slots) fireDue(run, bound, this, this.metrics);
          else applySteps(run, bound, now, this);
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
    this.out.requests.maybeFlush(now);
    this.out.ticks.maybeFlush(now);
    this.scheduler.wakeAt(this.nextWake(now));
  }

  /** When the next turn is due (next-wake.ts); also notes the earliest due iteration for catchUp. */
  private nextWake(now: number): number {
    this.nextDueAbs = this.aborting ? Infinity : earliestDue(this.runs);
    const next = this.aborting ? Math.min(this.nextTickAbs, this.abortDeadline) : runsNextEvent(this.runs, now, this.nextTickAbs);
    return withInflight(next, now, this.inflight.oldestSentMs(), this.timeoutMs);
  }

  /** Public for the executor loops (executors/*-loop.ts). */
  startIteration(run: ScenarioRun, intendedMs: number, vu: VuState | undefined, iter = run.iterSeq++): void {
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
    // reconnectOnError (fortio's behaviour) closes the connection after an error response instead.
    if (err === undefined) {
      if (status >= 400 && this.reconnectOnError) pool.discard(h.client!);
      else pool.release(h.client!);
    } else queueMicrotask(() => pool.release(h.client!));
    this.inflight.ended(h);
    const intendedMs = it.reqIdx === 0 ? it.intendedMs : h.sentMs;
    const kind = err === undefined ? undefined : errorKind(err);
    const ok = status >= 200 && status < 400;
    if (ok) c.ok++;
    else {
      c.failed++;
      run.tick.errors++;
    }
    this.out.requests.write(recordLine(h, this.t0Perf, intendedMs, endMs, status, kind, err));
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
    // Closed loop: a VU starts its next iteration as soon as the previous one ends.
    vuIterationDone(run, it.vu!, now, !this.aborting && !this.finished, this);
  }

  /** Timeouts, gracefulStop hard cuts, gracefulRampDown cuts and the post-abort cut; O(expired) per call. */
  private sweep(now: number): void {
    const q = this.inflight;
    q.beginSweep();
    try {
      q.cutSentBefore(now - this.timeoutMs, timeoutCut);
      for (const run of this.runs) {
        if (!run.hardCutDone && now >= run.hardEnd) {
          run.hardCutDone = true;
          q.cutRun(run, gracefulStopCut);
        }
        if (!run.slots && run.rampDownsPending > 0) cutRampedDown(run, now);
      }
      if (this.aborting && now >= this.abortDeadline) q.cutRun(undefined, abortCut);
    } finally {
      q.endSweep();
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
    this.out.tickWriter.write(this.tickIndex, this.runs);
    this.tickIndex++;
    this.nextTickAbs += 1000;
  }

  /**
   * The process is exiting now (a second Ctrl-C): every request still in flight is cut and recorded
   * (`cut: "exit"`), so each started request has its record. Synchronous; the caller flushes the sinks.
   */
  cutAllNow(): { started: number; completed: number } {
    this.aborting = true;
    const now = performance.now();
    // An ended run has nothing in flight, or (failed) its files are closed: only its counters are wanted.
    if (!this.finished) {
      this.inflight.holdForExit();
      try {
        this.inflight.endAll((h) => {
          h.done = true;
          this.requestDone(h, now, 0, new Interrupted('process exit', 'exit'));
        });
      } finally {
        this.inflight.endSweep();
      }
    }
    return requestCounts(this.runs);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const endT = (performance.now() - this.t0Perf) / 1000;
    if (endT > this.tickIndex - 1) this.out.tickWriter.write(Math.max(this.tickIndex, Math.ceil(endT)), this.runs);
    this.progress?.done();
    if (this.opts.signal && this.onAbort) this.opts.signal.removeEventListener('abort', this.onAbort);
    const closeAll = async () => {
      this.out.close();
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
      this.out?.close();
    } catch {
      /* the original error matters more */
    }
    for (const p of this.pools.values()) void p.destroy();
    this.metrics?.close().catch(() => undefined);
    this.reject(e);
  }

  private result(): LoadResult {
    return driverResult(this.runs, this.startLag, {
      t0Epoch: this.t0Epoch,
      aborted: this.aborting,
      metricsPort: this.metricsPort,
      files: this.out.files,
    });
  }
}
