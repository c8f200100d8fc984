/**
 * How the run ended and whether the machine was crowded while it ran: the two things a reader must
 * know before trusting any number in the report, so they lead it (and summary.json).
 *
 * - ending: completed | interrupted | killed | failed. A killed run (SIGKILL, power loss, OOM) never
 *   reached the code that writes `outcome`/`endedAt` into the manifest, so their absence is the sign.
 * - contention: the driver's p99 start lag (sent − intended; above 1 ms the schedule was not kept, see
 *   README "p99 start lag sits near 1 ms"), the load average per CPU, and CPU steal during the load.
 */
import type { RunEvent, RunManifest } from '../runner/raw.ts';
import type { RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';

export type RunEnding = 'completed' | 'interrupted' | 'killed' | 'failed';

export interface RunEndingInfo {
  ending: RunEnding;
  /** The manifest's exitReason, or what the raw files say for a killed run. */
  reason: string | null;
  /** Run time of the last request sent (how far the load got). */
  lastRequestS: number | null;
  /** Planned scenario length from the load ticks' schedule when known. */
  loadDone: boolean;
}

export interface Contention {
  contended: boolean;
  startLagP99Ms: number | null;
  /** Where the lag comes from: the driver's HDR histogram (load-done event) or requests' sent − intended. */
  startLagSource: 'driver' | 'requests' | null;
  loadavgPerCpu: number | null;
  stealPercent: number | null;
  /** One phrase per signal over its threshold. */
  reasons: string[];
}

export const CONTENTION_LIMITS = { startLagP99Ms: 1, loadavgPerCpu: 1, stealPercent: 1 } as const;

export function runEnding(m: RunManifest, runEvents: RunEvent[], req: RequestColumns): RunEndingInfo {
  let last = -Infinity;
  for (let i = 0; i < req.n; i++) if (req.sent[i] > last) last = req.sent[i];
  const loadDone = runEvents.some((e) => e.kind === 'phase' && e.what === 'load-done');
  const lastRequestS = Number.isFinite(last) ? r3(last) : null;
  if (m.outcome === 'interrupted') return { ending: 'interrupted', reason: m.exitReason ?? 'interrupted by a signal', lastRequestS, loadDone };
  if (m.outcome === 'failed') return { ending: 'failed', reason: m.exitReason ?? 'the run failed', lastRequestS, loadDone };
  if (m.outcome === 'ok' && m.endedAt) return { ending: 'completed', reason: null, lastRequestS, loadDone };
  // No outcome, or "ok" written at load end but never finalised: the harness did not get to finish.
  const phases = runEvents.filter((e) => e.kind === 'phase').map((e) => e.what);
  return { ending: 'killed', reason: `the harness stopped without finishing the manifest (phases recorded: ${phases.length ? phases.join(', ') : 'none'})`, lastRequestS, loadDone };
}

export function contention(m: RunManifest, runEvents: RunEvent[], req: RequestColumns, closedLoop: boolean): Contention {
  const reasons: string[] = [];
  let p99: number | null = null;
  let source: Contention['startLagSource'] = null;
  const done = runEvents.find((e) => e.kind === 'phase' && e.what === 'load-done');
  const lag = (done?.detail as { startLagMs?: { count: number; p99: number } } | undefined)?.startLagMs;
  if (lag && lag.count > 0) {
    p99 = r3(lag.p99);
    source = 'driver';
  } else if (!closedLoop && req.lagMs && req.n > 0) {
    // A killed run has no load-done event: the requests' own stamps give the same measure.
    const s = Float32Array.from(req.lagMs).sort();
    p99 = r3(s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]);
    source = 'requests';
  }
  if (p99 !== null && p99 > CONTENTION_LIMITS.startLagP99Ms) reasons.push(`the load driver's p99 start lag was ${p99} ms (above ${CONTENTION_LIMITS.startLagP99Ms} ms: requests left later than scheduled)`);
  const { start, end } = m.cpu ?? {};
  const cpus = start?.cpus ?? end?.cpus ?? (m.machine?.cpus as number | undefined);
  const la = Math.max(start?.loadavg1 ?? -1, end?.loadavg1 ?? -1);
  const loadavgPerCpu = la >= 0 && cpus ? r3(la / cpus) : null;
  if (loadavgPerCpu !== null && loadavgPerCpu > CONTENTION_LIMITS.loadavgPerCpu) reasons.push(`the load average was ${la} on ${cpus} CPUs (more runnable work than CPUs)`);
  let stealPercent: number | null = null;
  if (start?.totalJiffies !== undefined && end?.totalJiffies !== undefined && end.totalJiffies > start.totalJiffies) {
    stealPercent = r3((100 * ((end.stealJiffies ?? 0) - (start.stealJiffies ?? 0))) / (end.totalJiffies - start.totalJiffies));
    if (stealPercent > CONTENTION_LIMITS.stealPercent) reasons.push(`the hypervisor took ${stealPercent} % of CPU time (steal)`);
  }
  return { contended: reasons.length > 0, startLagP99Ms: p99, startLagSource: source, loadavgPerCpu, stealPercent, reasons };
}

/** Open loop (arrival-rate executors), closed loop (VU executors), or both in one run. */
export function loadModel(m: RunManifest): 'open' | 'closed' | 'mixed' | 'unknown' {
  const ex = Object.values(m.executors ?? {});
  if (ex.length === 0) return 'unknown';
  const closed = ex.filter((e) => e.endsWith('-vus')).length;
  return closed === 0 ? 'open' : closed === ex.length ? 'closed' : 'mixed';
}
