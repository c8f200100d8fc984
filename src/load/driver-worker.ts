/**
 * The worker-thread side of driver-thread.ts: runs the driver on its own event loop and reports back
 * with messages. Importing driver.ts warms it up before the parent is told "warm".
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cutEverythingForExit, rehearse, runLoad, type DriverOptions } from './driver.ts';
import type { Scenario } from './types.ts';
import {
  EXIT_COMPLETED,
  EXIT_FLUSHED,
  EXIT_HAS_COUNTERS,
  EXIT_POLL_MS,
  EXIT_REQUESTED,
  EXIT_STARTED,
  type FromDriver,
  type ToDriver,
} from './driver-thread.ts';
import { flushOpenSinks } from './ndjson-sink.ts';

const port = parentPort!;
const post = (m: FromDriver) => port.postMessage(m);
const controller = new AbortController();

// The process is exiting (driver-thread.ts): write every batched record now, then say so.
const exitFlag = (workerData as { exitFlag: Int32Array }).exitFlag;
setInterval(() => {
  if (Atomics.load(exitFlag, EXIT_REQUESTED) !== 1) return;
  // Requests still in flight get their record too (cut: "exit"); the counters go back with the answer.
  let counters: ReturnType<typeof cutEverythingForExit>;
  try {
    counters = cutEverythingForExit();
  } catch {
    // The batched records still matter more than the counters.
  }
  flushOpenSinks();
  if (counters) {
    Atomics.store(exitFlag, EXIT_STARTED, counters.started);
    Atomics.store(exitFlag, EXIT_COMPLETED, counters.completed);
    Atomics.store(exitFlag, EXIT_HAS_COUNTERS, 1);
  }
  Atomics.store(exitFlag, EXIT_FLUSHED, 1);
  Atomics.notify(exitFlag, EXIT_FLUSHED);
}, EXIT_POLL_MS).unref();

function serialiseError(e: unknown): Extract<FromDriver, { type: 'error' }>['error'] {
  const err = e as Error & Record<string, unknown>;
  const out: Record<string, unknown> = { name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack };
  for (const k of ['code', 'errno', 'syscall', 'path', 'problems', 'exitCode']) if (err?.[k] !== undefined) out[k] = err[k];
  return out as Extract<FromDriver, { type: 'error' }>['error'];
}

port.on('message', (m: ToDriver) => {
  if (m.type === 'abort') controller.abort();
  else if (m.type === 'run') {
    const opts: DriverOptions = {
      ...m.options,
      signal: controller.signal,
      onMetricsListening: (p) => post({ type: 'metrics-listening', port: p }),
      onReady: () => post({ type: 'ready' }),
    };
    runLoad(opts).then(
      (result) => {
        post({ type: 'done', result });
        port.close();
      },
      (e) => {
        post({ type: 'error', error: serialiseError(e) });
        port.close();
      },
    );
  }
});
// A failed rehearsal only costs the run its warm start; the run itself reports real problems.
const scenario = (workerData as { scenario?: Scenario }).scenario;
if (scenario) await rehearse(scenario).catch(() => undefined);
post({ type: 'warm' });
