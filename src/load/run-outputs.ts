/**
 * The files a fast-path run writes (contracts/raw.ts): requests, load ticks and the per-second latency
 * histograms, opened when the run starts and closed once at its end, and the result that names them.
 */
import path from 'node:path';
import type * as hdr from 'hdr-histogram-js';
import { RAW } from '../contracts/raw.ts';
import type { LoadResult, ScenarioCounters } from './driver-options.ts';
import type { LoadMetrics } from './metrics.ts';
import { NdjsonSink } from './ndjson-sink.ts';
import type { ProgressView } from './progress.ts';
import type { ScenarioRun } from './scenario-run.ts';
import { TickWriter } from './tick-writer.ts';

/**
 * Per-second HDR latency histograms, one line per (second, scenario, origin of the latency):
 * `{t, scenario, from: "intended"|"sent", count, hdr}` with `hdr` in HdrHistogram's compressed base64
 * encoding, values in microseconds. Not (yet) named in raw.ts; see the load driver's report.
 */
export const LATENCY_HDR_FILE = RAW.latencyHdr;

export class RunOutputs {
  readonly requests: NdjsonSink;
  readonly ticks: NdjsonSink;
  readonly tickWriter: TickWriter;
  private readonly hdrSink: NdjsonSink;

  constructor(
    private readonly runDir: string,
    metrics: LoadMetrics | undefined,
    progress: ProgressView | undefined,
    totalS: number,
  ) {
    this.requests = new NdjsonSink(path.join(runDir, RAW.requests));
    this.ticks = new NdjsonSink(path.join(runDir, RAW.loadTicks));
    this.hdrSink = new NdjsonSink(path.join(runDir, LATENCY_HDR_FILE));
    this.tickWriter = new TickWriter(this.ticks, this.hdrSink, metrics, progress, totalS);
  }

  close(): void {
    this.requests.close();
    this.ticks.close();
    this.hdrSink.close();
  }

  get files(): LoadResult['files'] {
    return {
      requests: path.join(this.runDir, RAW.requests),
      loadTicks: path.join(this.runDir, RAW.loadTicks),
      latencyHdr: path.join(this.runDir, LATENCY_HDR_FILE),
    };
  }
}

/** The counters of every scenario and their sum, and the start lag of arrival-rate iterations. */
export function driverResult(
  runs: readonly ScenarioRun[],
  lag: hdr.Histogram,
  rest: Pick<LoadResult, 't0Epoch' | 'aborted' | 'metricsPort' | 'files'>,
): LoadResult {
  const scenarios: Record<string, ScenarioCounters> = {};
  const sum: Omit<ScenarioCounters, 'allocated'> = {
    iterations: 0,
    iterationsCompleted: 0,
    interrupted: 0,
    dropped: 0,
    started: 0,
    completed: 0,
    ok: 0,
    failed: 0,
  };
  for (const run of runs) {
    scenarios[run.spec.name] = { ...run.counters };
    for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += run.counters[k];
  }
  return {
    ...sum,
    t0Epoch: rest.t0Epoch,
    aborted: rest.aborted,
    scenarios,
    metricsPort: rest.metricsPort,
    startLagMs:
      lag.totalCount === 0
        ? { count: 0, p50: 0, p99: 0, max: 0 }
        : {
            count: lag.totalCount,
            p50: lag.getValueAtPercentile(50) / 1000,
            p99: lag.getValueAtPercentile(99) / 1000,
            max: lag.maxValue / 1000,
          },
    files: rest.files,
  };
}

/** Requests started and completed (= records written) over every scenario. */
export function requestCounts(runs: readonly ScenarioRun[]): { started: number; completed: number } {
  let started = 0;
  let completed = 0;
  for (const run of runs) {
    started += run.counters.started;
    completed += run.counters.completed;
  }
  return { started, completed };
}
