/**
 * How a run ended, told from its own files (issue 11): a report regenerated from a run that was
 * SIGKILLed, interrupted or failed must say so before anything else, with when and what is missing.
 * Pure: the manifest's stamps and the last timestamps in the raw data are the only clocks.
 *
 * A harness run writes `outcome` and `endedAt` into its manifest as it ends; a run killed with SIGKILL
 * (or a crashed harness) never gets to, so a manifest without an outcome whose run wrote run events is
 * a killed run. Runs made outside an experiment (`spillover load`, imports) have no run events and are
 * not judged.
 */
import type { RawRun } from './raw-run.ts';

export interface RunEnding {
  /** completed: as designed; interrupted: by a signal; failed: an error; killed: no end was recorded. */
  how: 'completed' | 'interrupted' | 'failed' | 'killed' | 'unrecorded';
  /** True for a completed run (and for runs outside an experiment, which are not judged). */
  complete: boolean;
  /** The manifest's endedAt, or for a killed run the time of the last data it wrote (ISO, UTC). */
  endedAt: string | null;
  /** Run seconds of the last thing written (request sent, run event, load tick). */
  lastDataS: number | null;
  /** The manifest's exitReason. */
  reason: string | null;
  /** What the data lack because of how the run ended, in plain words. */
  missing: string[];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function runEnding(raw: RawRun): RunEnding {
  const m = raw.manifest;
  let last = -Infinity;
  let lastRequest = -Infinity;
  for (let i = 0; i < raw.requests.n; i++) if (raw.requests.sent[i] > lastRequest) lastRequest = raw.requests.sent[i];
  last = lastRequest;
  for (const e of raw.runEvents) if (e.t > last) last = e.t;
  for (const k of raw.loadTicks) if (k.t > last) last = k.t;
  const lastDataS = Number.isFinite(last) ? r3(last) : null;
  const phases = new Set(raw.runEvents.filter((e) => e.kind === 'phase').map((e) => e.what));
  const harnessRun = raw.runEvents.length > 0;
  const loadDone = phases.has('load-done');
  const reason = m.exitReason ?? null;
  const at = (s: number) => `${r3(s)} s`;
  const missing: string[] = [];
  const loadCut = () => {
    if (!harnessRun || loadDone) return;
    if (!phases.has('load')) missing.push('all of the load: it had not started');
    else missing.push(`the rest of the load: it did not finish${Number.isFinite(lastRequest) ? `; the last recorded request was sent at ${at(lastRequest)}` : ''}`);
  };

  // The harness wrote 'ok' only after the load finished and the teardown flushed everything.
  if (m.outcome === 'ok') return { how: 'completed', complete: true, endedAt: m.endedAt ?? null, lastDataS, reason, missing };
  if (m.outcome === 'interrupted' || m.outcome === 'failed') {
    loadCut();
    return { how: m.outcome, complete: false, endedAt: m.endedAt ?? null, lastDataS, reason, missing };
  }
  if (!harnessRun) return { how: 'unrecorded', complete: true, endedAt: m.endedAt ?? null, lastDataS, reason, missing };
  loadCut();
  missing.push(
    'requests in flight at the kill: they have no record',
    "the teardown: Envoy's last buffered access and outlier log lines and the final scrapes",
    'how and why it ended: the harness did not get to write it',
  );
  const endedAt = lastDataS !== null && Number.isFinite(m.t0Epoch) ? new Date(m.t0Epoch + lastDataS * 1000).toISOString() : null;
  return { how: 'killed', complete: false, endedAt, lastDataS, reason, missing };
}
