/**
 * How the run ended and whether the machine was crowded while it ran: the two things a reader must
 * know before trusting any number in the report, so they lead it (and summary.json).
 *
 * - ending: completed | interrupted | killed | failed. A killed run (SIGKILL, power loss, OOM) never
 *   reached the code that writes `outcome`/`endedAt` into the manifest, so their absence is the sign.
 * - contention: the driver's p99 start lag (sent − intended; above 1 ms the schedule was not kept, see
 *   README "p99 start lag sits near 1 ms"), the load average per CPU, and CPU steal during the load.
 */
import type { LoadTick, RunEvent, RunManifest } from '../contracts/raw.ts';
import type { RequestColumns } from './request-columns.ts';
import { r3 } from './timeseries.ts';

export type RunEnding = 'completed' | 'interrupted' | 'killed' | 'failed';

export interface RunEndingInfo {
  ending: RunEnding;
  /** The manifest's exitReason, or what the raw files say for a killed run. */
  reason: string | null;
  /** Run time of the last request sent (how far the load got). */
  lastRequestS: number | null;
  loadDone: boolean;
  /** The manifest's endedAt, or for a killed run the time of the last data it wrote (ISO, UTC). */
  endedAt: string | null;
  /** Run seconds of the last thing written (request sent, run event, load tick). */
  lastDataS: number | null;
  /** What the data lack because of how the run ended, in plain words (empty for a completed run). */
  missing: string[];
}

/**
 * A harness run writes `outcome` and `endedAt` into its manifest as it ends; a run killed with
 * SIGKILL (or a crashed harness) never gets to. Runs made outside an experiment (`spillover load`,
 * imports) write no run events and are taken as they are.
 */
export function runEnding(m: RunManifest, runEvents: RunEvent[], req: RequestColumns, loadTicks: LoadTick[] = []): RunEndingInfo {
  let lastReq = -Infinity;
  for (let i = 0; i < req.n; i++) if (req.sent[i] > lastReq) lastReq = req.sent[i];
  let last = lastReq;
  for (const e of runEvents) if (e.t > last) last = e.t;
  for (const k of loadTicks) if (k.t > last) last = k.t;
  const lastRequestS = Number.isFinite(lastReq) ? r3(lastReq) : null;
  const lastDataS = Number.isFinite(last) ? r3(last) : null;
  const phases = runEvents.filter((e) => e.kind === 'phase').map((e) => e.what);
  const loadDone = phases.includes('load-done');
  const base = { lastRequestS, loadDone, lastDataS, endedAt: m.endedAt ?? null };
  const missing: string[] = [];
  const loadCut = () => {
    if (runEvents.length === 0 || loadDone) return;
    if (!phases.includes('load')) missing.push('all of the load: it had not started');
    else
      missing.push(
        `the rest of the load: it did not finish${lastRequestS !== null ? `; the last recorded request was sent at ${lastRequestS} s` : ''}`,
      );
  };
  if (m.outcome === 'ok' && m.endedAt) return { ...base, ending: 'completed', reason: null, missing };
  if (m.outcome === 'interrupted') {
    loadCut();
    return { ...base, ending: 'interrupted', reason: m.exitReason ?? 'interrupted by a signal', missing };
  }
  if (m.outcome === 'failed') {
    loadCut();
    return { ...base, ending: 'failed', reason: m.exitReason ?? 'the run failed', missing };
  }
  if (runEvents.length === 0) return { ...base, ending: 'completed', reason: null, missing };
  // No outcome, or "ok" written at load end but never finalised: the harness did not get to finish.
  loadCut();
  missing.push(
    'requests in flight at the kill: they have no record',
    "the teardown: Envoy's last buffered access and outlier log lines and the final scrapes",
  );
  const endedAt = lastDataS !== null && Number.isFinite(m.t0Epoch) ? new Date(m.t0Epoch + lastDataS * 1000).toISOString() : null;
  return {
    ...base,
    endedAt,
    ending: 'killed',
    reason: `the harness stopped without finishing the manifest (phases recorded: ${phases.length ? phases.join(', ') : 'none'})`,
    missing,
  };
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
  if (p99 !== null && p99 > CONTENTION_LIMITS.startLagP99Ms)
    reasons.push(
      `the load driver's p99 start lag was ${p99} ms (above ${CONTENTION_LIMITS.startLagP99Ms} ms: requests left later than scheduled)`,
    );
  const { start, end } = m.cpu ?? {};
  const cpus = start?.cpus ?? end?.cpus ?? (m.machine?.cpus as number | undefined);
  const la = Math.max(start?.loadavg1 ?? -1, end?.loadavg1 ?? -1);
  const loadavgPerCpu = la >= 0 && cpus ? r3(la / cpus) : null;
  if (loadavgPerCpu !== null && loadavgPerCpu > CONTENTION_LIMITS.loadavgPerCpu)
    reasons.push(`the load average was ${la} on ${cpus} CPUs (more runnable work than CPUs)`);
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
