/**
 * What a run tells whoever watches it (the CLI's live events and metrics, src/live/), without the
 * runner knowing who that is: the runner calls the hooks, the watcher imports the runner, never the
 * other way round.
 */
import type { ClustersRecord, RunManifest, ScrapeRecord } from './raw.ts';

/** Hooks into a run, called in this order; a hook that throws does not stop the run. */
export interface RunObserver {
  /** Time zero is fixed and capture starts: everything the run writes from now on is in runDir. */
  loadStarting?(info: { runDir: string; t0Epoch: number; manifest: RunManifest; statsIntervalMs: number; fileFlushMs: number }): void;
  /** Every scrape and /clusters record as capture writes it. */
  capture?(rec: ScrapeRecord | ClustersRecord, shape: 'scrape' | 'clusters'): void;
  /** The driver's own /metrics listens on this loopback port. */
  driverMetrics?(port: number): void;
  /** The backend is down and every raw file complete (before the report is written). */
  ended?(): Promise<void> | void;
}

/** Calls a hook; what it throws or rejects with is swallowed. */
export const safely = (f: () => unknown) => {
  try {
    const r = f();
    if (r instanceof Promise) return r.catch(() => undefined);
  } catch {
    // The observer only watches.
  }
  return undefined;
};
