/**
 * The end of a VU run, as k6 does it: teardown(data), the final threshold evaluation (exit code 99 when
 * one failed), the summary data, handleSummary(data) (its `stdout`/`stderr`/file outputs) or k6's
 * default summary, `--summary-export`; and the run's counters in the driver's LoadResult shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RAW } from '../../contracts/raw.ts';
import type { LoadResult, ScenarioCounters } from '../driver-options.ts';
import type { ScenarioCtx } from './executors.ts';
import type { MetricStore } from './metric-store.ts';
import { summaryData, summaryExport, summaryText } from './summary.ts';
import { evaluateThresholds, type Threshold } from './thresholds.ts';
import type { VuProgram } from './vu-program.ts';
import type { VuHost } from './vu-state.ts';

export interface VuRunOutcome {
  /** What k6 prints at the end (the summary, or handleSummary's `stdout`). */
  stdout: string;
  /** k6's exit code: 0, 99 thresholds failed, 108 test.abort(), 110 exec.test.fail(). */
  exitCode: number;
  thresholds: Array<{ metric: string; expression: string; ok: boolean }>;
}

export interface FinishInput {
  prog: VuProgram;
  store: MetricStore;
  thresholds: Threshold[];
  durationMs: number;
  setupData: unknown;
  exitCode: number;
  /** exec.test.fail() was called: exit code 110 unless an earlier cause set one. */
  markedFailed?: boolean;
  host: Pick<VuHost, 'log'>;
  vuCwd?: string;
  /** Calls an exported lifecycle function of the auxiliary VU (undefined when not exported). */
  call(name: string, arg?: unknown): Promise<unknown>;
  hasExport(name: string): boolean;
  /** A copy of `d` in the VU context's realm (what handleSummary gets). */
  cloneData(d: unknown): unknown;
}

/** Writes handleSummary's outputs; returns what goes to stdout. */
async function handleSummary(f: FinishInput, data: unknown): Promise<string> {
  const out = (await f.call('handleSummary', f.cloneData(data))) as Record<string, unknown> | undefined;
  let stdout = '';
  for (const [k, v] of Object.entries(out ?? {})) {
    const text = typeof v === 'string' ? v : v instanceof ArrayBuffer ? Buffer.from(v).toString() : JSON.stringify(v);
    if (k === 'stdout') stdout += text;
    else if (k === 'stderr') process.stderr.write(text);
    else {
      const file = path.resolve(f.vuCwd ?? process.cwd(), k);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
  }
  return stdout;
}

export async function finishRun(f: FinishInput): Promise<VuRunOutcome> {
  try {
    await f.call('teardown', f.setupData);
  } catch (e) {
    f.host.log('error', `teardown() failed: ${(e as Error)?.message ?? e}`);
  }
  evaluateThresholds(f.thresholds, f.store, f.durationMs / 1000);
  let exitCode = f.exitCode;
  if (f.thresholds.some((t) => t.ok === false) && exitCode === 0) exitCode = 99;
  if (f.markedFailed && exitCode === 0) exitCode = 110;
  const o = f.prog.options;
  const trendStats = Array.isArray(o.summaryTrendStats)
    ? (o.summaryTrendStats as string[])
    : ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];
  const groupPaths = f.store.seriesOf('group_duration').map((s) => s.tags.group ?? '');
  const setupCopy = f.setupData === undefined ? undefined : JSON.parse(JSON.stringify(f.setupData));
  const data = summaryData(f.store, f.thresholds, f.durationMs, trendStats, groupPaths, setupCopy);
  let stdout = summaryText(data);
  if (f.hasExport('handleSummary')) {
    try {
      stdout = await handleSummary(f, data);
    } catch (e) {
      f.host.log('error', `handleSummary() failed: ${(e as Error)?.message ?? e}; printing the default summary`);
    }
  }
  if (f.prog.summaryExport) fs.writeFileSync(path.resolve(f.prog.summaryExport), `${JSON.stringify(summaryExport(data), null, 2)}\n`);
  return { stdout, exitCode, thresholds: f.thresholds.map((t) => ({ metric: t.key, expression: t.source, ok: t.ok !== false })) };
}

/** The driver's LoadResult from the scenarios' counters and the http_reqs / http_req_failed series. */
export function vuResult(
  ctxs: ScenarioCtx[],
  t0: number,
  aborted: boolean,
  runDir: string,
  startLagMs: LoadResult['startLagMs'],
  k6: VuRunOutcome,
  store: MetricStore,
): LoadResult & { k6: VuRunOutcome } {
  const scenarios: Record<string, ScenarioCounters> = {};
  const reqs = store.seriesOf('http_reqs');
  const failed = store.seriesOf('http_req_failed');
  const sum = { iterations: 0, iterationsCompleted: 0, interrupted: 0, dropped: 0, started: 0, completed: 0, ok: 0, failed: 0 };
  for (const sc of ctxs) {
    const name = sc.spec.name;
    const started = reqs.filter((s) => s.tags.scenario === name).reduce((a, s) => a + s.count, 0);
    const bad = failed.filter((s) => s.tags.scenario === name).reduce((a, s) => a + s.nonZero, 0);
    const c: ScenarioCounters = {
      iterations: sc.started,
      iterationsCompleted: sc.completed,
      interrupted: sc.interrupted,
      dropped: sc.dropped,
      started,
      completed: started,
      ok: started - bad,
      failed: bad,
      allocated: sc.allocated,
    };
    scenarios[name] = c;
    for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += c[k];
  }
  return {
    ...sum,
    t0Epoch: t0,
    aborted,
    scenarios,
    startLagMs,
    k6,
    files: {
      requests: path.join(runDir, RAW.requests),
      loadTicks: path.join(runDir, RAW.loadTicks),
      latencyHdr: path.join(runDir, RAW.latencyHdr),
    },
  };
}
