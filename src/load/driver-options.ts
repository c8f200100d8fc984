/** What the driver is asked to run and what it gives back: shared by the fast path (driver.ts), the VU runtime (vu/engine.ts) and the driver thread. */
import type { Scenario } from './types.ts';

export interface DriverOptions {
  scenario: Scenario;
  runDir: string;
  /**
   * Unix ms of scenario time zero; the caller sets it so every source shares one clock. Default: now
   * (after warm-up). A t0 already in the past when the run starts makes the driver catch up in a burst,
   * as k6 would: callers that fix t0 early should `await warmUp()` first and leave a little margin.
   */
  t0Epoch?: number;
  /** "ip:port": send every request to this socket address with the URL's host as Host header (curl --connect-to). */
  connectTo?: string;
  allowNonLoopback?: boolean;
  /** Whole-request timeout (k6's default is 60 s). */
  requestTimeoutMs?: number;
  /**
   * Close the connection after an error response (status >= 400) and open a new one for the next
   * request, as fortio does; k6 (the default) keeps it.
   */
  reconnectOnError?: boolean;
  signal?: AbortSignal;
  /** Progress line on stderr; default: process.stderr.isTTY. */
  live?: boolean;
  /** prom-client /metrics on 127.0.0.1; undefined = off, 0 = ephemeral port (see LoadResult.metricsPort). */
  metricsPort?: number;
  /** Called once the metrics endpoint listens, before load starts. */
  onMetricsListening?: (port: number) => void;
  /** Called after every target passed validation and before anything is written or sent. */
  onReady?: () => void;
  /** Spin window before each due time, ms (default 1.5; 0 = always sleep on a timer). */
  spinMs?: number;
  /** After an abort, how long in-flight requests may still finish before they are cut (default 1000 ms). */
  abortGraceMs?: number;
  /** VU runtime only, same thread only: receives the script's console output and k6's log lines instead of stderr. */
  vuLog?: (level: 'info' | 'warn' | 'error' | 'debug', msg: string) => void;
  /** VU runtime: where handleSummary's relative file names are written (default the working directory, as k6). */
  vuCwd?: string;
}

export interface ScenarioCounters {
  /** Iterations started / completed in full / cut by gracefulStop, ramp-down or abort / dropped (no free VU). */
  iterations: number;
  iterationsCompleted: number;
  interrupted: number;
  dropped: number;
  /** Requests sent; completed (= lines written); ok (status 200–399, k6's default expected range); failed. */
  started: number;
  completed: number;
  ok: number;
  failed: number;
  /** Slots allocated at the end (arrival-rate) or highest VU count (VU executors). */
  allocated: number;
}

export interface LoadResult extends Omit<ScenarioCounters, 'allocated'> {
  t0Epoch: number;
  /** True when the run was ended by the abort signal. */
  aborted: boolean;
  scenarios: Record<string, ScenarioCounters>;
  metricsPort?: number;
  /** Start lag (actual send − due time) of arrival-rate iterations, ms, from an HDR histogram. */
  startLagMs: { count: number; p50: number; p99: number; max: number };
  files: { requests: string; loadTicks: string; latencyHdr: string };
}
