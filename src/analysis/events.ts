/**
 * Event detection: when the circuit breaker first overflowed, which host was ejected and released,
 * when traffic moved to B and back, when "no healthy upstream" first appeared, when the run recovered.
 * Each event carries the load at that moment and the setting that explains it.
 */
import type { ClustersRecord, LoadTick, RunEvent, ScrapeRecord, TopologyManifest } from '../runner/raw.ts';
import type { Sample } from '../runner/capture/prom-text.ts';
import { FLAG_BITS, type AccessColumns } from './access-log.ts';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from './cluster-name.ts';
import { describeConnectionPool, describeOutlier, type ConfigFacts } from './config-facts.ts';
import type { OutlierEvent } from './outlier-log.ts';
import { r3 } from './timeseries.ts';
import { achievedAt, bucketIndex, firstCrossing, switchTime, type FineBuckets } from './windows.ts';

export type EventKind =
  | 'overflow' | 'upstream-5xx' | 'service-rejected' | 'eject' | 'uneject' | 'detected-not-enforced' | 'no-healthy-upstream'
  | 'redirect-onset' | 'redirect-end' | 'recovery' | 'capture-gap' | 'run';

export interface DetectedEvent {
  t: number;
  kind: EventKind;
  envoy: string;
  host: string;
  service: string;
  offeredRps: number | null;
  achievedRps: number | null;
  /** Where the time comes from: outlier-log, access-log, driver, scrape, clusters, requests. */
  source: string;
  /** The setting that made it happen, e.g. "outlierDetection consecutive5xxErrors=1, baseEjectionTime=60s". */
  cause: string;
  detail: string;
}

/**
 * The only scraped series event detection reads. The reader drops every other sample, so a long run's
 * scrapes (megabytes per minute per Envoy) do not have to sit in memory.
 */
export const USED_METRICS = /(_upstream_rq_pending_overflow|_upstream_rq_retry_overflow|_outlier_detection_ejections_active|_upstream_cx_none_healthy)$|^spillover_service_requests_total$/;

export const EVENT_COLUMNS = ['t_s', 'kind', 'envoy', 'host', 'service', 'offered_rps', 'achieved_rps', 'source', 'cause', 'detail'] as const;

export interface EventInputs {
  topology?: TopologyManifest;
  config: ConfigFacts;
  ticks: LoadTick[];
  /** Fine buckets of who served what (driver view, or client access log when the driver has none). */
  fine: FineBuckets;
  /** Driver: first send time of a request the client saw as overloaded (x-envoy-overloaded). */
  firstDriverOverflow?: number;
  access: Record<string, AccessColumns>;
  outlier: Record<string, OutlierEvent[]>;
  scrapes: Record<string, ScrapeRecord[]>;
  clusters: Record<string, ClustersRecord[]>;
  runEvents: RunEvent[];
  redirectThreshold: number;
  windowS: number;
}

const KIND_ORDER: EventKind[] = ['run', 'service-rejected', 'overflow', 'upstream-5xx', 'detected-not-enforced', 'eject', 'redirect-onset', 'no-healthy-upstream', 'uneject', 'redirect-end', 'recovery', 'capture-gap'];

export function detectEvents(inp: EventInputs): DetectedEvent[] {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  const roles = inp.topology?.envoys ?? {};
  const envoyNames = [...new Set([...Object.keys(roles), ...Object.keys(inp.access), ...Object.keys(inp.outlier), ...Object.keys(inp.clusters)])].sort();
  const clientCluster = inp.topology?.clientCluster;
  const serviceOf = (envoy: string, host: string) => (roles[envoy]?.role === 'client' || !roles[envoy] ? inp.topology?.endpoints?.[host]?.service ?? '' : '');
  const poolCause = describeConnectionPool(inp.config);

  // Circuit-breaker overflow, per Envoy: earliest of access-log UO, scrape counter increase, driver header.
  for (const envoy of envoyNames) {
    const cands: Array<{ t: number; source: string; detail: string }> = [];
    const acc = inp.access[envoy];
    if (acc) {
      const i = firstIndex(acc, (k) => (acc.flags[k] & FLAG_BITS.UO) !== 0);
      if (i >= 0) cands.push({ t: acc.start[i], source: 'access-log', detail: `first 503 UO in ${envoy}'s access log` });
    }
    const isClient = roles[envoy]?.role === 'client';
    const overflowOf = (s: Sample[]) => {
      if (isClient && clientCluster) {
        const k1 = clusterSeriesKey(clientCluster, 'upstream_rq_pending_overflow');
        const k2 = clusterSeriesKey(clientCluster, 'upstream_rq_retry_overflow');
        const a = clusterValue(s, k1);
        const b = clusterValue(s, k2);
        return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
      }
      const a = statAcrossClusters(s, 'upstream_rq_pending_overflow');
      const b = statAcrossClusters(s, 'upstream_rq_retry_overflow');
      return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
    };
    const inc = firstIncrease(inp.scrapes[envoy], overflowOf);
    if (inc) cands.push({ t: inc.t, source: 'scrape', detail: `upstream_rq_pending_overflow/retry_overflow rose between ${fmt(inc.prevT)} s and ${fmt(inc.t)} s` });
    if (isClient && inp.firstDriverOverflow !== undefined) cands.push({ t: inp.firstDriverOverflow, source: 'driver', detail: 'first response with x-envoy-overloaded' });
    const first = earliest(cands);
    if (first) {
      out.push({ t: first.t, kind: 'overflow', envoy, host: '', service: isClient ? '' : roles[envoy]?.role === 'a-sidecar' ? 'A' : roles[envoy]?.role === 'b-sidecar' ? 'B' : '', source: first.source, cause: poolCause, detail: cands.map((c) => `${c.source} ${fmt(c.t)} s`).join('; ') });
    }
  }

  // The first 5xx an upstream sent (not a local reply): what outlier detection counts.
  for (const envoy of envoyNames) {
    const acc = inp.access[envoy];
    if (!acc) continue;
    const i = firstIndex(acc, (k) => acc.code[k] >= 500 && (acc.flags[k] & (FLAG_BITS.UO | FLAG_BITS.UH)) === 0 && acc.host[k] !== '');
    if (i < 0) continue;
    const host = acc.host[i];
    out.push({ t: acc.start[i], kind: 'upstream-5xx', envoy, host, service: serviceOf(envoy, host), source: 'access-log', cause: '', detail: `first ${acc.code[i]} from upstream ${host}` });
  }
  // A service refusing work (its own queue full): the load-bearing cause behind upstream 503s.
  for (const [target, recs] of Object.entries(inp.scrapes).sort(([x], [y]) => x.localeCompare(y))) {
    let service = '';
    const rejected = (s: Sample[]) => {
      let v: number | undefined;
      for (const [name, labels, value] of s) {
        if (name !== 'spillover_service_requests_total' || labels.outcome !== 'rejected') continue;
        v = (v ?? 0) + value;
        service = labels.service ?? service;
      }
      return v;
    };
    const inc = firstIncrease(recs, rejected);
    if (inc) out.push({ t: inc.t, kind: 'service-rejected', envoy: target, host: '', service, source: 'scrape', cause: 'service capacity (queue full)', detail: `spillover_service_requests_total{outcome="rejected"} rose between ${fmt(inc.prevT)} s and ${fmt(inc.t)} s` });
  }

  // Ejections: the outlier event log is exact; gauges and /clusters confirm it (or stand in when the
  // log is missing or was not flushed before the run ended).
  for (const envoy of envoyNames) {
    const log = inp.outlier[envoy] ?? [];
    const gaugeKey = clientCluster && roles[envoy]?.role === 'client' ? clusterSeriesKey(clientCluster, 'outlier_detection_ejections_active') : undefined;
    const gauge = (s: Sample[]) => (gaugeKey ? clusterValue(s, gaugeKey) : statAcrossClusters(s, 'outlier_detection_ejections_active'));
    const active = new Set<string>();
    for (const e of log) {
      const service = serviceOf(envoy, e.host);
      if (e.action === 'EJECT' && !e.enforced) {
        out.push({ t: e.t, kind: 'detected-not-enforced', envoy, host: e.host, service, source: 'outlier-log', cause: describeOutlier(inp.config, e.type), detail: `${e.type} detected, enforcement 0 %: host stayed in` });
        continue;
      }
      if (e.action === 'EJECT') {
        active.add(e.host);
        const g = firstAtOrAfter(inp.scrapes[envoy], e.t, (r) => (r.ok && (gauge(r.samples ?? []) ?? 0) >= active.size ? true : false));
        const c = firstAtOrAfter(inp.clusters[envoy], e.t, (r) => !!r.hosts?.some((h) => h.address === e.host && h.flags.includes('failed_outlier_check')));
        const confirm = [g !== undefined ? `ejections_active gauge at ${fmt(g)} s` : 'gauge: not seen', c !== undefined ? `/clusters failed_outlier_check at ${fmt(c)} s` : '/clusters: not seen'].join('; ');
        out.push({ t: e.t, kind: 'eject', envoy, host: e.host, service, source: 'outlier-log', cause: describeOutlier(inp.config, e.type), detail: `${e.type}, ejection #${e.numEjections ?? '?'}; ${confirm}` });
      } else {
        active.delete(e.host);
        out.push({ t: e.t, kind: 'uneject', envoy, host: e.host, service, source: 'outlier-log', cause: describeOutlier(inp.config, undefined), detail: e.secsSinceLastAction !== undefined ? `after ${e.secsSinceLastAction} s ejected` : '' });
      }
    }
    if (log.length === 0) out.push(...ejectionsFromClusters(envoy, inp.clusters[envoy] ?? [], serviceOf, describeOutlier(inp.config, undefined)));
  }

  // No healthy upstream (UH): every host of a priority set ejected and panic routing disabled.
  for (const envoy of envoyNames) {
    const cands: Array<{ t: number; source: string; detail: string }> = [];
    const acc = inp.access[envoy];
    if (acc) {
      const i = firstIndex(acc, (k) => (acc.flags[k] & FLAG_BITS.UH) !== 0);
      if (i >= 0) cands.push({ t: acc.start[i], source: 'access-log', detail: 'first 503 UH' });
    }
    const inc = firstIncrease(inp.scrapes[envoy], (s) => (clientCluster && roles[envoy]?.role === 'client' ? clusterValue(s, clusterSeriesKey(clientCluster, 'upstream_cx_none_healthy')) : statAcrossClusters(s, 'upstream_cx_none_healthy')));
    if (inc) cands.push({ t: inc.t, source: 'scrape', detail: `upstream_cx_none_healthy rose between ${fmt(inc.prevT)} s and ${fmt(inc.t)} s` });
    const first = earliest(cands);
    if (first) out.push({ t: first.t, kind: 'no-healthy-upstream', envoy, host: '', service: '', source: first.source, cause: 'all hosts ejected; Istio sets healthy_panic_threshold 0 with outlierDetection', detail: cands.map((c) => `${c.source} ${fmt(c.t)} s`).join('; ') });
  }

  out.push(...redirectEvents(inp));

  for (const [target, recs] of Object.entries(inp.scrapes).sort(([a], [b]) => a.localeCompare(b))) out.push(...gaps(target, 'scrape', recs));
  for (const [envoy, recs] of Object.entries(inp.clusters).sort(([a], [b]) => a.localeCompare(b))) out.push(...gaps(envoy, 'clusters', recs));
  for (const e of inp.runEvents) {
    // Phases and injected faults frame the timeline; crashes and errors explain gaps in it.
    if (e.kind !== 'phase' && e.kind !== 'fault' && e.kind !== 'process-exit' && e.kind !== 'error' && e.kind !== 'push') continue;
    // A control-plane push is stamped when the Envoy was seen applying it (its update_success counter).
    const push = e.kind === 'push' ? (e.detail as { envoy?: string; latencyMs?: number | null } | undefined) : undefined;
    const detail = push ? `push: ${e.what}, applied ${push.latencyMs ?? '?'} ms after the write` : `${e.kind}: ${e.what}`;
    out.push({ t: e.t, kind: 'run', envoy: push?.envoy ?? '', host: '', service: '', source: 'run-events', cause: '', detail });
  }

  return out
    .map((e) => ({ ...e, t: r3(e.t), offeredRps: r3(offeredAt(inp.ticks, e.t)), achievedRps: inp.fine.n ? r3(achievedAt(inp.fine, e.t)) : null }))
    .map((e) => ({ t: e.t, kind: e.kind, envoy: e.envoy, host: e.host, service: e.service, offeredRps: e.offeredRps, achievedRps: e.achievedRps, source: e.source, cause: e.cause, detail: e.detail }))
    .sort((a, b) => a.t - b.t || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.envoy.localeCompare(b.envoy) || a.host.localeCompare(b.host));
}

/** Redirect onset/end: B's share of served requests over a sliding window crossing the threshold. */
function redirectEvents(inp: EventInputs): Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  const fb = inp.fine;
  const thr = inp.redirectThreshold;
  const minCount = 3;
  const detail = `B's share of served requests over a ${inp.windowS} s window crossed ${Math.round(thr * 100)} %`;
  const share = (s: { a: number; b: number }) => (s.a + s.b === 0 ? NaN : s.b / (s.a + s.b));
  const served = (s: { a: number; b: number; total: number }) => ({ ...s, total: s.a + s.b });
  let from = 0;
  let firstTrouble: number | undefined;
  for (;;) {
    const on = firstCrossing(fb, from, inp.windowS, minCount, (s) => served(s).total >= 1 && share(s) >= thr);
    if (!on) break;
    const tOn = switchTime(fb, on.j, 'B');
    firstTrouble ??= tOn;
    out.push({ t: tOn, kind: 'redirect-onset', envoy: '', host: '', service: 'B', source: 'requests', cause: '', detail });
    const off = firstCrossing(fb, on.i + 1, inp.windowS, minCount, (s) => served(s).total >= 1 && share(s) < thr);
    if (!off) break;
    out.push({ t: switchTime(fb, off.j, 'A'), kind: 'redirect-end', envoy: '', host: '', service: 'A', source: 'requests', cause: '', detail: detail.replace('crossed', 'fell back below') });
    from = off.i + 1;
  }
  // Recovery: after the first sign of trouble (redirect or failed requests), the first window where
  // A serves again and ≥ 99 % of requests succeed.
  const failWindow = firstCrossing(fb, 0, inp.windowS, minCount, (s) => s.ok / s.total < 0.99);
  const troubleT = Math.min(firstTrouble ?? Infinity, failWindow ? bucketStartOf(fb, failWindow.j) : Infinity);
  if (Number.isFinite(troubleT)) {
    const from2 = Math.max(0, bucketIndex(fb, troubleT) + Math.max(1, Math.round(inp.windowS / fb.stepS)));
    const rec = firstCrossing(fb, from2, inp.windowS, minCount, (s) => s.ok / s.total >= 0.99 && (s.a + s.b === 0 || s.a / (s.a + s.b) >= 1 - thr));
    if (rec) out.push({ t: switchTime(fb, rec.j, 'A'), kind: 'recovery', envoy: '', host: '', service: 'A', source: 'requests', cause: '', detail: `≥ 99 % success and A serving ≥ ${Math.round((1 - thr) * 100)} % over ${inp.windowS} s` });
  }
  return out;
}

const bucketStartOf = (fb: FineBuckets, k: number) => fb.t0 + k * fb.stepS;

function ejectionsFromClusters(envoy: string, recs: ClustersRecord[], serviceOf: (e: string, h: string) => string, cause: string) {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  const state = new Map<string, boolean>();
  let prevT: number | undefined;
  for (const r of recs) {
    if (!r.ok || !r.hosts) continue;
    for (const h of r.hosts) {
      const ej = h.flags.includes('failed_outlier_check');
      const was = state.get(h.address) ?? false;
      if (ej !== was) out.push({ t: r.t, kind: ej ? 'eject' : 'uneject', envoy, host: h.address, service: serviceOf(envoy, h.address), source: 'clusters', cause, detail: `no outlier log; /clusters changed between ${prevT === undefined ? '?' : fmt(prevT)} s and ${fmt(r.t)} s` });
      state.set(h.address, ej);
    }
    prevT = r.t;
  }
  return out;
}

function gaps(target: string, what: string, recs: Array<{ t: number; ok: boolean; error?: string }>) {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  for (let i = 0; i < recs.length; i++) {
    if (recs[i].ok) continue;
    let j = i;
    while (j + 1 < recs.length && !recs[j + 1].ok) j++;
    out.push({ t: recs[i].t, kind: 'capture-gap', envoy: target, host: '', service: '', source: what, cause: '', detail: `${j - i + 1} failed ${what}(s) until ${fmt(recs[j].t)} s: ${recs[i].error ?? ''}` });
    i = j;
  }
  return out;
}

function firstIndex(a: AccessColumns, pred: (k: number) => boolean): number {
  let best = -1;
  for (let k = 0; k < a.n; k++) if (pred(k) && (best < 0 || a.start[k] < a.start[best])) best = k;
  return best;
}

function firstIncrease(recs: ScrapeRecord[] | undefined, value: (s: Sample[]) => number | undefined): { t: number; prevT: number } | undefined {
  let prev: number | undefined;
  let prevT = NaN;
  for (const r of recs ?? []) {
    if (!r.ok || !r.samples) continue;
    const v = value(r.samples);
    if (v === undefined) continue;
    if (prev !== undefined ? v > prev : v > 0) return { t: r.t, prevT };
    prev = v;
    prevT = r.t;
  }
  return undefined;
}

function firstAtOrAfter<T extends { t: number }>(recs: T[] | undefined, t: number, pred: (r: T) => boolean): number | undefined {
  for (const r of recs ?? []) if (r.t >= t - 0.001 && pred(r)) return r.t;
  return undefined;
}

const earliest = <T extends { t: number }>(c: T[]) => c.reduce<T | undefined>((m, x) => (m === undefined || x.t < m.t ? x : m), undefined);
const fmt = (t: number) => (Number.isFinite(t) ? t.toFixed(2) : '?');

/** The schedule's rate at instant t: the tick covering (t_k − 1, t_k], summed over scenarios. */
export function offeredAt(ticks: LoadTick[], t: number): number {
  let r = 0;
  for (const k of ticks) if (k.t - 1 < t && t <= k.t) r += k.target;
  return r;
}

