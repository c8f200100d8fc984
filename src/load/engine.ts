/**
 * A load engine: whatever sends the scenario's traffic into the mesh. Three exist -- the embedded
 * driver on a thread of its own, a real k6 on PATH, and k6 inside a cluster (kind/kube backends) --
 * and the run treats them alike: start as early as possible, run at time zero, close always.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RAW } from '../contracts/raw.ts';
import { DriverThread } from './driver-thread.ts';
import { runK6 } from './k6-engine.ts';
import type { Scenario } from './types.ts';

/** Where the load enters the mesh: the URL keeps the service host; connectTo is the socket to dial. */
export interface LoadTarget {
  url: string;
  connectTo?: string;
}

export interface LoadRun {
  runDir: string;
  /** Scenario time zero, Unix ms: every source of the run shares this clock. */
  t0Epoch: number;
  target: LoadTarget;
  /** `clients:` form: every client's own entry by client name (orchestrate/client-engines.ts). */
  targets?: Record<string, LoadTarget>;
  signal: AbortSignal;
}

export interface LoadEngine {
  readonly name: 'embedded' | 'k6' | 'k6-in-cluster';
  /** Resolves when the load has ended and its records are in raw/; the value is the engine's own tally. */
  run(r: LoadRun): Promise<object>;
  close(): Promise<void>;
}

export interface EmbeddedEngineOptions {
  allowNonLoopback?: boolean;
  requestTimeoutMs: number;
  /** Close the connection after an error response, as fortio does (load.reconnectOnError). */
  reconnectOnError?: boolean;
  metricsPort?: number;
  live?: boolean;
  /** The driver's own /metrics listens on this loopback port. */
  onMetricsListening?: (port: number) => void;
  /** A second Ctrl-C exits at once: the thread still records every request, and its counters land here. */
  onForcedExit?: (counters: { started: number; completed: number; forcedExit: true }) => void;
}

/**
 * The embedded driver. Its thread starts at once: it warms up and rehearses the scenario (about
 * 1.4 s) while the backend comes up, so it is ready before scenario time zero is fixed.
 */
export function embeddedEngine(scenario: Scenario, opts: EmbeddedEngineOptions): LoadEngine & { ready(): Promise<void> } {
  const { onForcedExit, ...driverOpts } = opts;
  const starting = DriverThread.start(scenario).then((t) => {
    t.onForcedExit = onForcedExit;
    return t;
  });
  starting.catch(() => undefined); // awaited (and its error reported) in ready() or run()
  return {
    name: 'embedded',
    ready: async () => void (await starting),
    run: async ({ runDir, t0Epoch, target, signal }) =>
      (await starting).run({ scenario, runDir, t0Epoch, connectTo: target.connectTo, signal, ...driverOpts }),
    close: () =>
      starting.then(
        (t) => t.close(),
        () => undefined,
      ),
  };
}

/**
 * `load.engine: k6`: the same script run by a real k6. Its requests reach the mesh through k6's own
 * `hosts` option (the service host mapped to the client sidecar), so the script stays unchanged.
 */
export function k6Engine(script: string, env: Record<string, string> | undefined, allowNonLoopback?: boolean): LoadEngine {
  return {
    name: 'k6',
    run: ({ runDir, t0Epoch, target, signal }) => {
      const args: string[] = [];
      if (target.connectTo) {
        const cfg = path.join(runDir, RAW.rawDir, 'k6-config.json');
        fs.writeFileSync(cfg, JSON.stringify({ hosts: { [new URL(target.url).hostname]: target.connectTo } }, null, 2));
        args.push('--config', cfg);
      }
      return runK6({ script, runDir, env, t0Epoch, allowNonLoopback, signal, args });
    },
    close: async () => undefined,
  };
}
