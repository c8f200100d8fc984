/**
 * The once-a-second view of a run: one load tick per scenario (raw.ts `LoadTick`), the per-second HDR
 * latency histograms (LATENCY_HDR_FILE), the prom-client gauges and the progress line.
 */
import * as hdr from 'hdr-histogram-js';
import type { LoadTick } from '../contracts/raw.ts';
import type { LoadMetrics } from './metrics.ts';
import type { NdjsonSink } from './ndjson-sink.ts';
import type { ProgressView } from './progress.ts';
import { newTick, type ScenarioRun } from './scenario-run.ts';

export class TickWriter {
  constructor(
    private readonly ticks: NdjsonSink,
    private readonly hdrSink: NdjsonSink,
    private readonly metrics: LoadMetrics | undefined,
    private readonly progress: ProgressView | undefined,
    /** Length of the whole run, s, for the progress line. */
    private readonly totalS: number,
  ) {}

  /** Writes second `t` (1 = the first second) of every scenario that has begun, and resets its counts. */
  write(t: number, runs: readonly ScenarioRun[]): void {
    let target = 0,
      achieved = 0,
      errors = 0,
      dropped = 0,
      active = 0,
      allocated = 0;
    for (const run of runs) {
      const startSec = run.spec.startTime;
      if (t <= startSec && run.tick.target === 0 && run.tick.started === 0) continue;
      const busy = run.slots ? run.slots.busy : run.inflightIterations;
      const alloc = run.slots ? run.slots.allocated : run.counters.allocated;
      const tick: LoadTick = {
        t,
        scenario: run.spec.name,
        target: run.slots ? run.tick.target : run.tick.started,
        started: run.tick.started,
        dropped: run.tick.dropped,
        active: busy,
        allocated: alloc,
      };
      this.ticks.writeObject(tick);
      this.writeHistograms(t, run);
      if (this.metrics) {
        this.metrics.vus.set({ scenario: run.spec.name }, busy);
        this.metrics.vusMax.set({ scenario: run.spec.name }, alloc);
        this.metrics.targetRate.set({ scenario: run.spec.name }, tick.target);
      }
      target += tick.target;
      achieved += run.tick.started;
      errors += run.tick.errors;
      dropped += run.tick.dropped;
      active += busy;
      allocated += alloc;
      run.tick = newTick();
    }
    this.hdrSink.flush();
    this.progress?.update({ elapsed: t, total: this.totalS, target, achieved, errors, dropped, active, allocated });
  }

  private writeHistograms(t: number, run: ScenarioRun): void {
    for (const [from, h] of [
      ['intended', run.hdrIntended],
      ['sent', run.hdrSent],
    ] as const) {
      if (h.totalCount > 0) {
        this.hdrSink.writeObject({ t, scenario: run.spec.name, from, count: h.totalCount, hdr: hdr.encodeIntoCompressedBase64(h) });
        h.reset();
      }
    }
  }
}
