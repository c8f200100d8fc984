/**
 * `analyze(raw)`: the pure core. Everything a report needs, computed from a raw run already in
 * memory (requests as columns, see request-columns.ts). No I/O, no clock.
 */
import { configFacts } from './config-facts.ts';
import { detectEvents, type DetectedEvent } from './events.ts';
import { DEST, OUTCOME, type RequestColumns } from './request-columns.ts';
import type { Summary } from '../contracts/summary.ts';
import { buildSummary } from './summary.ts';
import { meshSummary, servedByOverTime, type ServedByRow } from './mesh-summary.ts';
import { clientOutcomes } from './client-outcomes.ts';
import { breakerTrips } from './breakers.ts';
import { contention, loadModel, runEnding } from './run-ending.ts';
import type { TimeseriesRow } from '../contracts/timeseries.ts';
import { buildTimeseries } from './timeseries.ts';
import { fineBuckets, fineFromRequests, type FineBuckets } from './windows.ts';
import type { RawRun } from './raw-run.ts';
import type { AccessColumns } from './access-log.ts';
import type { LoadTick } from '../contracts/raw.ts';

export type { RawRun } from './raw-run.ts';

export interface AnalyzeOptions {
  /** Time-series bucket width; default: the finest of 0.25, 0.5, 1, 2, 5, 10, 30, 60 s giving ≤ 300 buckets. */
  bucketS?: number;
  /** Sliding window for redirect/recovery detection. */
  windowS?: number;
  /** B's share at which the redirect counts as on. */
  redirectThreshold?: number;
}

export interface Analysis {
  summary: Summary;
  timeseries: TimeseriesRow[];
  events: DetectedEvent[];
  bucketS: number;
  windowS: number;
  redirectThreshold: number;
  /** Names of Envoys with any telemetry, sorted. */
  envoys: string[];
  /** The resolved experiment from the manifest (what the configuration diagnosis reads). */
  resolved: unknown;
  /** Envoy name → role (client, a-sidecar, gateway, b-sidecar) from the manifest's topology. */
  roles: Record<string, string>;
  /** Each redirect interval and B's exact share of the A/B-served requests sent within it. */
  redirects: Array<{ onsetS: number; endS: number | null; shareB: number | null }>;
  /** General topology: successful responses per instance (with its locality) per bucket. */
  servedBy?: ServedByRow[];
}

export const ANALYZE_DEFAULTS = { windowS: 1, redirectThreshold: 0.5 } as const;

const BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60];

/** Fine enough to show a time-scaled 10 s run, coarse enough that an hour stays a readable figure. */
export function autoBucket(req: RequestColumns, ticks: LoadTick[]): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < req.n; i++) {
    if (req.sent[i] < lo) lo = req.sent[i];
    if (req.sent[i] > hi) hi = req.sent[i];
  }
  for (const k of ticks) {
    lo = Math.min(lo, k.t - 1);
    hi = Math.max(hi, k.t);
  }
  const span = Number.isFinite(lo) ? hi - lo : 0;
  return BUCKETS.find((b) => span / b <= 300) ?? BUCKETS[BUCKETS.length - 1];
}

/**
 * The events of a run, and the inputs detection read. analyze() calls it for the report; the live
 * feed (src/live/) calls it on the part of a run recorded so far, so the lines printed while a run
 * goes come from this same code.
 */
export function detectRunEvents(
  raw: RawRun,
  opts: AnalyzeOptions = {},
): { events: DetectedEvent[]; clientAccess?: AccessColumns; fine: FineBuckets; config: ReturnType<typeof configFacts> } {
  const windowS = opts.windowS ?? ANALYZE_DEFAULTS.windowS;
  const redirectThreshold = opts.redirectThreshold ?? ANALYZE_DEFAULTS.redirectThreshold;
  const roles = raw.manifest.topology?.envoys ?? {};
  const clientName = Object.keys(roles).find((n) => roles[n].role === 'client');
  const clientAccess = clientName ? raw.access[clientName] : undefined;

  const req = raw.requests;
  let fine = fineFromRequests(req, windowS / 10);
  // A driver that did not see the service header (e.g. an imported k6 run) still lets the client's
  // access log tell A from B.
  if (fine.n > 0 && sum(fine.a) + sum(fine.b) === 0 && clientAccess && clientAccess.n > 0) {
    const outc = new Uint8Array(clientAccess.n);
    for (let i = 0; i < clientAccess.n; i++)
      outc[i] = clientAccess.code[i] > 0 && clientAccess.code[i] < 400 ? OUTCOME.ok : OUTCOME.upstream5xx;
    fine = fineBuckets(clientAccess.start, clientAccess.dest, outc, clientAccess.n, windowS / 10);
  }
  let firstDriverOverflow: number | undefined;
  for (let i = 0; i < req.n; i++)
    if (req.outcome[i] === OUTCOME.overflow503 && !(req.sent[i] >= (firstDriverOverflow ?? Infinity))) firstDriverOverflow = req.sent[i];

  const config = configFacts(raw.manifest.resolved);
  const events = detectEvents({
    topology: raw.manifest.topology,
    config,
    closedLoop: loadModel(raw.manifest) === 'closed',
    ticks: raw.loadTicks,
    fine,
    firstDriverOverflow,
    access: raw.access,
    outlier: raw.outlier,
    scrapes: raw.scrapes,
    clusters: raw.clusters,
    runEvents: raw.runEvents,
    redirectThreshold,
    windowS,
  });
  return { events, clientAccess, fine, config };
}

export function analyze(raw: RawRun, opts: AnalyzeOptions = {}): Analysis {
  const bucketS = opts.bucketS ?? autoBucket(raw.requests, raw.loadTicks);
  const windowS = opts.windowS ?? ANALYZE_DEFAULTS.windowS;
  const redirectThreshold = opts.redirectThreshold ?? ANALYZE_DEFAULTS.redirectThreshold;
  const roles = raw.manifest.topology?.envoys ?? {};
  const req = raw.requests;
  const { events, clientAccess, fine, config } = detectRunEvents(raw, opts);
  const timeseries = buildTimeseries(req, raw.loadTicks, clientAccess, bucketS);
  const dropped = raw.loadTicks.reduce((s, k) => s + k.dropped, 0);
  const envoys = [
    ...new Set([...Object.keys(raw.access), ...Object.keys(raw.outlier), ...Object.keys(raw.clusters), ...Object.keys(roles)]),
  ].sort();
  const envoyTelemetry = Object.keys(raw.access).length + Object.keys(raw.clusters).length + Object.keys(raw.outlier).length > 0;
  const useAccess = fine.n > 0 && sum(fine.a) + sum(fine.b) > 0 && !hasDest(req) && clientAccess !== undefined;
  const times = useAccess ? clientAccess!.start : req.sent;
  const dests = useAccess ? clientAccess!.dest : req.dest;
  const redirects = events
    .filter((e) => e.kind === 'redirect-onset')
    .map((on) => {
      const end = events.find((e) => e.kind === 'redirect-end' && e.t >= on.t);
      const to = end ? end.t : Infinity;
      let a = 0;
      let b = 0;
      for (let i = 0; i < times.length; i++) {
        if (times[i] < on.t - 0.0005 || times[i] >= to - 0.0005) continue;
        if (dests[i] === DEST.A) a++;
        else if (dests[i] === DEST.B) b++;
      }
      return { onsetS: on.t, endS: end ? end.t : null, shareB: a + b ? Math.round((b / (a + b)) * 1000) / 1000 : null, count: a + b };
    });
  // B-served requests inside redirect episodes: what was redirected, as opposed to balanced.
  let inB = 0;
  for (const r of redirects) if (r.shareB !== null) inB += Math.round(r.shareB * r.count);
  const abTotal = countAB(dests);
  const model = loadModel(raw.manifest);
  const summary = buildSummary(raw.manifest, req, dropped, events, envoyTelemetry, {
    ending: runEnding(raw.manifest, raw.runEvents, req, raw.loadTicks),
    contention: contention(raw.manifest, raw.runEvents, req, model === 'closed'),
    loadModel: model,
    redirectedShare: abTotal ? Math.round((inB / abTotal) * 1000) / 1000 : null,
    breakers: breakerTrips(raw.manifest.topology, config, raw.scrapes),
    mesh: meshSummary(raw.manifest, req, raw.scrapes),
    clients: clientOutcomes(raw.manifest, raw.clientRequests),
  });
  const roleNames = Object.fromEntries(Object.entries(roles).map(([n, r]) => [n, r.role]));
  return {
    summary,
    timeseries,
    events,
    bucketS,
    windowS,
    redirectThreshold,
    envoys,
    resolved: raw.manifest.resolved,
    roles: roleNames,
    redirects: redirects.map(({ count: _c, ...r }) => r),
    servedBy: servedByOverTime(raw.manifest, req, bucketS),
  };
}

function countAB(d: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] === DEST.A || d[i] === DEST.B) n++;
  return n;
}

function hasDest(r: RequestColumns): boolean {
  for (let i = 0; i < r.n; i++) if (r.dest[i] === DEST.A || r.dest[i] === DEST.B) return true;
  return false;
}

const sum = (a: Int32Array) => a.reduce((s, x) => s + x, 0);
