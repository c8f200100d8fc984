/**
 * What a run tells whoever watches it (the CLI's live events and metrics, src/live/), without the
 * run knowing who that is: the run calls the hooks, and both sides import only this contract.
 */
import type { ClustersRecord, RunManifest, ScrapeRecord } from '../contracts/raw.ts';

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
