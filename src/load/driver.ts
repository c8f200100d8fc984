/**
 * The embedded open-loop driver's entry: runs a {@link Scenario} with k6's executor semantics against
 * real HTTP servers and streams what happened into the run directory (src/contracts/raw.ts).
 * Experiments and `spillover load` run it on a thread of its own (driver-thread.ts).
 *
 * Plain-data scenarios take the fast path (driver-core.ts: scheduler.ts, inflight.ts,
 * request-handler.ts, and one file per executor under executors/); scripts with logic run in the
 * k6-compatible VU runtime (vu/). Importing this module starts nothing: warm-up.ts runs when asked.
 */
import { Driver } from './driver-core.ts';
import type { DriverOptions, LoadResult } from './driver-options.ts';
import { warmUp } from './warm-up.ts';

export type { DriverOptions, LoadResult, ScenarioCounters } from './driver-options.ts';
export { LATENCY_HDR_FILE } from './run-outputs.ts';
export { errorKind } from './request-errors.ts';
export { warmUp } from './warm-up.ts';
export { rehearse } from './rehearsal.ts';

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
  // Bad input fails first; a process's first run then warms up (a no-op on the driver thread, which did).
  await driver.prepare();
  await warmUp();
  await driver.preconnect();
  lastRun = driver;
  if (opts.t0Epoch === undefined) driver.setT0(Date.now());
  opts.onReady?.();
  return driver.run();
}
