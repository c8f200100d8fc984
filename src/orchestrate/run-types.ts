/** What a run is asked to do, and what it gives back: the types the phases of run.ts share. */
import type { RunManifest } from '../contracts/raw.ts';
import type { RunObserver } from '../contracts/run-observer.ts';
import type { BackendChoice, BackendOptions } from '../runner/backends/index.ts';

export interface RunOptions {
  experimentFile: string;
  set?: string[];
  timeScale?: number;
  backend?: BackendChoice;
  backendOptions?: BackendOptions;
  /** Parent of the run directory; default results/<experiment>/ under the working directory. */
  outDir?: string;
  runId?: string;
  keep?: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  /** Allow load targets outside loopback (only meaningful off the local backend). */
  allowNonLoopback?: boolean;
  /** Serve the driver's live /metrics on this loopback port (0 = any free port). */
  metricsPort?: number;
  signal?: AbortSignal;
  /** Where progress lines go; default stderr. */
  log?: (msg: string) => void;
  /** Watches the run as it goes (the CLI's live events and metrics, src/live/); never changes it. */
  observer?: RunObserver;
}

export interface RunResult {
  runDir: string;
  runId: string;
  exitCode: number;
  summary?: unknown;
  reportPath?: string;
  manifest: RunManifest;
}
