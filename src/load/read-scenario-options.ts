/** How a scenario script is read (scenario.ts readScenario): its environment, time scale and k6's CLI outputs. */
export interface ReadScenarioOptions {
  env?: Record<string, string>;
  /**
   * 0 < F ≤ 1. Multiplies every duration (stage durations, duration, startTime, gracefulStop,
   * gracefulRampDown) but NOT timeUnit: rates stay the same, so a time-scaled run still pushes the
   * service to the same load levels (the point where breakers overflow is a rate), just for a
   * shorter time. Validation (e.g. k6's duration ≥ 1s) applies to the script as written.
   */
  timeScale?: number;
  /** Wall-clock limit for evaluating the script and each dry-run call (default 2000 ms). */
  evalTimeoutMs?: number;
  /** k6 CLI overrides (--vus, --duration, --iterations, --tag). */
  cli?: import('./vu/options.ts').CliOverrides;
  /** `--out json=FILE` / `--summary-export FILE` (k6's outputs; written by the VU runtime). */
  outJson?: string;
  summaryExport?: string;
  /** Always use the VU runtime, even for a plain-data script. */
  forceVu?: boolean;
}
