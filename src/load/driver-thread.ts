/**
 * The driver on a thread of its own. In an experiment the main thread also scrapes four Envoys every
 * 250 ms, parses their output, watches processes and writes events; on the driver's event loop each of
 * those turns can make due iterations late. Measured with peak-load at time scale 0.1 (1159
 * iterations, four runs each, alternating, this 2-core machine): iterations more than 1 ms late were
 * 27-31 with the driver on the main thread and 11-23 on its own thread (p99 start lag 2.0-2.6 ms against
 * 0.9-2.1 ms). What remains is the machine: four Envoys and two services share its two cores.
 *
 * `DriverThread.start()` spawns the worker and resolves once it has warmed up (see driver.ts warmUp),
 * so callers start it before they fix scenario time zero. The thread ends with the run; if the process
 * exits, it ends with the process. The worker runs TypeScript through tsx like the CLI, whichever way
 * this process was started (bin/spillover.js, node --import tsx, mocha).
 */
import { Worker } from 'node:worker_threads';
import { SpilloverError, type ProblemDetail } from '../errors.ts';
import type { DriverOptions, LoadResult } from './driver.ts';
import type { Scenario } from './types.ts';

/** What can cross the thread boundary: everything but the signal and the callbacks. */
export type ThreadDriverOptions = Omit<DriverOptions, 'signal' | 'onMetricsListening' | 'onReady'>;

export type ToDriver = { type: 'run'; options: ThreadDriverOptions } | { type: 'abort' };
export type FromDriver =
  | { type: 'warm' }
  | { type: 'metrics-listening'; port: number }
  | { type: 'ready' }
  | { type: 'done'; result: LoadResult }
  | {
      type: 'error';
      error: {
        name: string;
        message: string;
        stack?: string;
        code?: string;
        errno?: number;
        syscall?: string;
        path?: string;
        problems?: ProblemDetail[];
        exitCode?: number;
      };
    };

/**
 * Young-generation size of the driver thread. A due iteration waits out every young-generation
 * collection that is running, and with V8's default (a 16 MB semi-space) those pauses took ~1.5 ms, so
 * nearly every collection made some iterations more than 1 ms late. Smaller, more frequent collections
 * are shorter. Measured against nginx on this 2-core machine, iterations more than 1 ms late (six or
 * twelve 3 s runs each): at 16k/s 538 on average with the default, 363 with 12 MB, ~500 with 6 or 24 MB;
 * at 32k/s 621-1588 with the default, 380-666 with 12 MB.
 */
const YOUNG_GENERATION_MB = 12;

/**
 * A forced exit (a second Ctrl-C calls process.exit) ends the thread with the process, and the records
 * it has batched but not written (up to 50 ms of them) would be lost; on the main thread the sink
 * flushed them at exit. So the exiting process raises a flag in memory shared with the thread, which
 * checks it every EXIT_POLL_MS, writes its batches and answers; the process waits for that at most
 * EXIT_WAIT_MS.
 */
export const EXIT_REQUESTED = 0;
export const EXIT_FLUSHED = 1;
/** Written by the thread before EXIT_FLUSHED: its request counters at the exit (see onForcedExit). */
export const EXIT_HAS_COUNTERS = 2;
export const EXIT_STARTED = 3;
export const EXIT_COMPLETED = 4;
export const EXIT_POLL_MS = 10;
const EXIT_WAIT_MS = 250;

// The worker is plain CommonJS text so it can register tsx before it loads any TypeScript.
const BOOT = `const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((m) => { m.register(); return import(workerData.entry); });`;

function reviveError(e: Extract<FromDriver, { type: 'error' }>['error']): Error {
  if (e.problems) return new SpilloverError(e.problems, e.exitCode);
  const err = new Error(e.message) as Error & Record<string, unknown>;
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  for (const k of ['code', 'errno', 'syscall', 'path'] as const) if (e[k] !== undefined) err[k] = e[k];
  return err;
}

export class DriverThread {
  private used = false;

  private readonly onProcessExit: () => void;
  /**
   * Called synchronously on a forced exit, after the thread cut and recorded every request still in
   * flight: how many requests it had started and completed (= records written), so the caller can
   * write what the run's end would have (run.ts writes its load-done event).
   */
  onForcedExit?: (counters: { started: number; completed: number; forcedExit: true }) => void;

  private constructor(
    private readonly worker: Worker,
    private readonly exited: Promise<number>,
    exitFlag: Int32Array,
  ) {
    this.onProcessExit = () => {
      Atomics.store(exitFlag, EXIT_REQUESTED, 1);
      Atomics.wait(exitFlag, EXIT_FLUSHED, 0, EXIT_WAIT_MS);
      if (Atomics.load(exitFlag, EXIT_HAS_COUNTERS) === 1) {
        this.onForcedExit?.({
          started: Atomics.load(exitFlag, EXIT_STARTED),
          completed: Atomics.load(exitFlag, EXIT_COMPLETED),
          forcedExit: true,
        });
      }
    };
    process.on('exit', this.onProcessExit);
  }

  /**
   * Spawns the driver thread; resolves when it is warm (or rejects if it could not start). Given the
   * scenario it will run, the thread also rehearses it against a private server (driver.ts rehearse),
   * which takes about a quarter of a second more and spares the run a cold start.
   */
  static async start(scenario?: Scenario): Promise<DriverThread> {
    const exitFlag = new Int32Array(new SharedArrayBuffer(4 * 8));
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: {
        tsx: import.meta.resolve('tsx/esm/api'),
        entry: new URL('./driver-worker.ts', import.meta.url).href,
        scenario,
        exitFlag,
      },
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      // Its stdout/stderr go straight to the process's own (the progress line writes to stderr).
      stdout: false,
      stderr: false,
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromDriver) => {
        if (m.type !== 'warm') return;
        worker.off('error', reject);
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      void exited.then((code) => reject(new Error(`the load driver thread ended during start-up (exit ${code})`)));
    });
    return new DriverThread(worker, exited, exitFlag);
  }

  /** Same contract as runLoad (driver.ts); one run per thread. */
  run(opts: DriverOptions): Promise<LoadResult> {
    if (this.used) throw new Error('DriverThread.run: one run per thread');
    this.used = true;
    const { signal, onMetricsListening, onReady, ...options } = opts;
    const worker = this.worker;
    return new Promise<LoadResult>((resolve, reject) => {
      let settled = false;
      const onAbort = () => worker.postMessage({ type: 'abort' } satisfies ToDriver);
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      worker.on('message', (m: FromDriver) => {
        if (m.type === 'metrics-listening') onMetricsListening?.(m.port);
        else if (m.type === 'ready') {
          try {
            onReady?.();
          } catch (e) {
            // The caller could not record the start: stop the run, report its error.
            onAbort();
            settle(() => reject(e));
          }
        } else if (m.type === 'done') settle(() => resolve(m.result));
        else if (m.type === 'error') settle(() => reject(reviveError(m.error)));
      });
      worker.once('error', (e) => settle(() => reject(e)));
      void this.exited.then((code) => settle(() => reject(new Error(`the load driver thread ended unexpectedly (exit ${code})`))));
      worker.postMessage({ type: 'run', options: { ...options, live: options.live ?? process.stderr.isTTY } } satisfies ToDriver);
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Ends the thread (after a run it has ended by itself). */
  async close(): Promise<void> {
    process.off('exit', this.onProcessExit);
    await this.worker.terminate();
  }
}

/** runLoad on a thread of its own, started and ended here. Callers that fix t0Epoch should start a DriverThread first. */
export async function runLoadInThread(opts: DriverOptions): Promise<LoadResult> {
  const thread = await DriverThread.start(opts.scenario);
  try {
    return await thread.run(opts);
  } finally {
    await thread.close();
  }
}
