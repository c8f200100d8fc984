/** A k6 script made ready for the VU runtime: plain data, so it crosses to the driver thread. */

export interface VuProgram {
  file: string;
  scriptDir: string;
  /** The transformed module (async-transform.ts). */
  code: string;
  /** Normalised top-level options (thresholds, tags, summaryTrendStats, ...), plain data. */
  options: Record<string, unknown>;
  exportedFunctions: string[];
  customMetrics: Array<{ name: string; type: 'counter' | 'gauge' | 'rate' | 'trend'; contains: 'default' | 'time' | 'data' }>;
  env: Record<string, string>;
  /** `--out json=FILE`, `--summary-export FILE`: written by the engine. */
  outJson?: string;
  summaryExport?: string;
}
