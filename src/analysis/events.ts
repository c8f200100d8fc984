/**
 * Event detection: when the circuit breaker first overflowed, which host was ejected and released,
 * when traffic moved to B and back, when "no healthy upstream" first appeared, when the run recovered.
 * Each event carries the load at that moment and the setting that explains it.
 */
import type { ClustersRecord, LoadTick, RunEvent, ScrapeRecord, TopologyManifest } from '../contracts/raw.ts';
import type { Sample } from '../contracts/telemetry.ts';
import { FLAG_BITS, type AccessColumns } from './access-log.ts';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from './cluster-name.ts';
import { describeOutlier, type ConfigFacts } from './config-facts.ts';
import type { OutlierEvent } from './outlier-log.ts';
import { r3 } from './timeseries.ts';
import { achievedAt, type FineBuckets } from './windows.ts';
import { breakerTrips } from './breakers.ts';
import { blockedEjections } from './ejection-overflow.ts';
import { redirectEvents } from './redirect-events.ts';
import type { DetectedEvent, EventKind } from './detected-event.ts';

export type { DetectedEvent, EventKind } from './detected-event.ts';

/**
 * The only scraped series event detection reads. The reader drops every other sample, so a long run's
 * scrapes (megabytes per minute per Envoy) do not have to sit in memory.
 */
export const USED_METRICS =
  /(_upstream_rq_pending_overflow|_upstream_rq_retry_overflow|_upstream_cx_overflow|_upstream_cx_pool_overflow|_outlier_detection_ejections_active|_outlier_detection_ejections_overflow|_upstream_cx_none_healthy)$|^spillover_service_requests_total$/;

export const EVENT_COLUMNS = [
  't_s',
  'kind',
  'envoy',
  'host',
  'service',
  'offered_rps',
  'achieved_rps',
  'source',
  'cause',
  'detail',
] as const;

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
  /** VU executors only: there is no offered (scheduled) rate, so events carry none. */
  closedLoop?: boolean;
}

const KIND_ORDER: EventKind[] = [
  'run',
  'service-rejected',
  'connection-limit',
  'overflow',
  'upstream-5xx',
  'detected-not-enforced',
  'ejection-blocked',
  'eject',
  'redirect-onset',
  'no-healthy-upstream',
  'uneject',
  'redirect-end',
  'recovery',
  'capture-gap',
];

export function detectEvents(inp: EventInputs): DetectedEvent[] {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  const roles = inp.topology?.envoys ?? {};
  const envoyNames = [
    ...new Set([...Object.keys(roles), ...Object.keys(inp.access), ...Object.keys(inp.outlier), ...Object.keys(inp.clusters)]),
  ].sort();
  const clientCluster = inp.topology?.clientCluster;
  const serviceOf = (envoy: string, host: string) =>
    roles[envoy]?.role === 'client' || !roles[envoy] ? (inp.topology?.endpoints?.[host]?.service ?? '') : '';

  // Circuit-breaker overflow, per Envoy: earliest of access-log UO, an overflow counter's rise, the
  // driver's x-envoy-overloaded header. The cause names the limit whose counter rose (breakers.ts).
  const trips = breakerTrips(inp.topology, inp.config, inp.scrapes);
  for (const envoy of envoyNames) {
    const cands: Array<{ t: number; source: string; detail: string }> = [];
    const acc = inp.access[envoy];
    if (acc) {
      const i = firstIndex(acc, (k) => (acc.flags[k] & FLAG_BITS.UO) !== 0);
      if (i >= 0) cands.push({ t: acc.start[i], source: 'access-log', detail: `first 503 UO in ${envoy}'s access log` });
    }
    const isClient = roles[envoy]?.role === 'client';
    const mine = trips.filter((x) => x.envoy === envoy && x.refuses);
    for (const x of mine)
      cands.push({ t: x.firstS, source: 'scrape', detail: `${x.counter} ${rose(x.prevS, x.firstS)} (to ${x.total} by the end)` });
    if (isClient && inp.firstDriverOverflow !== undefined)
      cands.push({ t: inp.firstDriverOverflow, source: 'driver', detail: 'first response with x-envoy-overloaded' });
    const first = earliest(cands);
    if (first) {
      const cause = mine.length
        ? mine.map((x) => `${x.limit} [${x.counter}]`).join('; ')
        : 'a circuit breaker (no overflow counter was scraped to say which limit)';
      out.push({
        t: first.t,
        kind: 'overflow',
        envoy,
        host: '',
        service: isClient ? '' : roles[envoy]?.role === 'a-sidecar' ? 'A' : roles[envoy]?.role === 'b-sidecar' ? 'B' : '',
        source: first.source,
        cause,
        detail: cands.map((c) => `${c.source} ${fmt(c.t)} s${c.source === 'scrape' ? `: ${c.detail}` : ''}`).join('; '),
      });
    }
  }
  for (const x of trips.filter((t) => !t.refuses)) {
    out.push({
      t: x.firstS,
      kind: 'connection-limit',
      envoy: x.envoy,
      host: '',
      service: '',
      source: 'scrape',
      cause: x.limit,
      detail: `${x.counter} ${rose(x.prevS, x.firstS)} (to ${x.total} by the end)`,
    });
  }
  for (const b of blockedEjections(inp.topology, inp.config, inp.scrapes)) {
    out.push({
      t: b.firstS,
      kind: 'ejection-blocked',
      envoy: b.envoy,
      host: '',
      service: '',
      source: 'scrape',
      cause: b.cause,
      detail: `outlier_detection.ejections_overflow ${rose(b.prevS, b.firstS)}, to ${b.total} by the end`,
    });
  }

  // The first 5xx an upstream sent (not a local reply): what outlier detection counts.
  for (const envoy of envoyNames) {
    const acc = inp.access[envoy];
    if (!acc) continue;
    const i = firstIndex(acc, (k) => acc.code[k] >= 500 && (acc.flags[k] & (FLAG_BITS.UO | FLAG_BITS.UH)) === 0 && acc.host[k] !== '');
    if (i < 0) continue;
    const host = acc.host[i];
    out.push({
      t: acc.start[i],
      kind: 'upstream-5xx',
      envoy,
      host,
      service: serviceOf(envoy, host),
      source: 'access-log',
      cause: '',
      detail: `first ${acc.code[i]} from upstream ${host}`,
    });
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
    if (inc)
      out.push({
        t: inc.t,
        kind: 'service-rejected',
        envoy: target,
        host: '',
        service,
        source: 'scrape',
        cause: 'service capacity (queue full)',
        detail: `spillover_service_requests_total{outcome="rejected"} rose between ${fmt(inc.prevT)} s and ${fmt(inc.t)} s`,
      });
  }

  // Ejections: the outlier event log is exact; gauges and /clusters confirm it (or stand in when the
  // log is missing or was not flushed before the run ended).
  for (const envoy of envoyNames) {
    const log = inp.outlier[envoy] ?? [];
    const gaugeKey =
      clientCluster && roles[envoy]?.role === 'client' ? clusterSeriesKey(clientCluster, 'outlier_detection_ejections_active') : undefined;
    const gauge = (s: Sample[]) => (gaugeKey ? clusterValue(s, gaugeKey) : statAcrossClusters(s, 'outlier_detection_ejections_active'));
    const active = new Set<string>();
    for (const e of log) {
      const service = serviceOf(envoy, e.host);
      if (e.action === 'EJECT' && !e.enforced) {
        out.push({
          t: e.t,
          kind: 'detected-not-enforced',
          envoy,
          host: e.host,
          service,
          source: 'outlier-log',
          cause: describeOutlier(inp.config, e.type),
          detail: `${e.type} detected, enforcement 0 %: host stayed in`,
        });
        continue;
      }
      if (e.action === 'EJECT') {
        active.add(e.host);
        const g = firstAtOrAfter(inp.scrapes[envoy], e.t, (r) => (r.ok && (gauge(r.samples ?? []) ?? 0) >= active.size ? true : false));
        const c = firstAtOrAfter(
          inp.clusters[envoy],
          e.t,
          (r) => !!r.hosts?.some((h) => h.address === e.host && h.flags.includes('failed_outlier_check')),
        );
        const confirm = [
          g !== undefined ? `ejections_active gauge at ${fmt(g)} s` : 'gauge: not seen',
          c !== undefined ? `/clusters failed_outlier_check at ${fmt(c)} s` : '/clusters: not seen',
        ].join('; ');
        out.push({
          t: e.t,
          kind: 'eject',
          envoy,
          host: e.host,
          service,
          source: 'outlier-log',
          cause: describeOutlier(inp.config, e.type),
          detail: `${e.type}, ejection #${e.numEjections ?? '?'}; ${confirm}`,
        });
      } else {
        active.delete(e.host);
        out.push({
          t: e.t,
          kind: 'uneject',
          envoy,
          host: e.host,
          service,
          source: 'outlier-log',
          cause: describeOutlier(inp.config, undefined),
          detail: e.secsSinceLastAction !== undefined ? `after ${e.secsSinceLastAction} s ejected` : '',
        });
      }
    }
    if (log.length === 0)
      out.push(...ejectionsFromClusters(envoy, inp.clusters[envoy] ?? [], serviceOf, describeOutlier(inp.config, undefined)));
  }

  // No healthy upstream (UH): every host of a priority set ejected and panic routing disabled.
  for (const envoy of envoyNames) {
    const cands: Array<{ t: number; source: string; detail: string }> = [];
    const acc = inp.access[envoy];
    if (acc) {
      const i = firstIndex(acc, (k) => (acc.flags[k] & FLAG_BITS.UH) !== 0);
      if (i >= 0) cands.push({ t: acc.start[i], source: 'access-log', detail: 'first 503 UH' });
    }
    const inc = firstIncrease(inp.scrapes[envoy], (s) =>
      clientCluster && roles[envoy]?.role === 'client'
        ? clusterValue(s, clusterSeriesKey(clientCluster, 'upstream_cx_none_healthy'))
        : statAcrossClusters(s, 'upstream_cx_none_healthy'),
    );
    if (inc)
      cands.push({ t: inc.t, source: 'scrape', detail: `upstream_cx_none_healthy rose between ${fmt(inc.prevT)} s and ${fmt(inc.t)} s` });
    const first = earliest(cands);
    if (first)
      out.push({
        t: first.t,
        kind: 'no-healthy-upstream',
        envoy,
        host: '',
        service: '',
        source: first.source,
        cause: 'all hosts ejected; Istio sets healthy_panic_threshold 0 with outlierDetection',
        detail: cands.map((c) => `${c.source} ${fmt(c.t)} s`).join('; '),
      });
  }

  out.push(
    ...redirectEvents({
      fine: inp.fine,
      redirectThreshold: inp.redirectThreshold,
      windowS: inp.windowS,
      causes: [...out, ...runFrames(inp.runEvents)],
      clientEnvoys: new Set(envoyNames.filter((n) => roles[n]?.role === 'client')),
      causesObservable: Object.keys(inp.outlier).length + Object.keys(inp.clusters).length + Object.keys(inp.scrapes).length > 0,
    }),
  );

  for (const [target, recs] of Object.entries(inp.scrapes).sort(([a], [b]) => a.localeCompare(b)))
    out.push(...gaps(target, 'scrape', recs));
  for (const [envoy, recs] of Object.entries(inp.clusters).sort(([a], [b]) => a.localeCompare(b)))
    out.push(...gaps(envoy, 'clusters', recs));
  out.push(...runFrames(inp.runEvents));

  return out
    .map((e) => ({
      ...e,
      t: r3(e.t),
      offeredRps: inp.closedLoop ? null : r3(offeredAt(inp.ticks, e.t)),
      achievedRps: inp.fine.n ? r3(achievedAt(inp.fine, e.t)) : null,
    }))
    .map((e) => ({
      t: e.t,
      kind: e.kind,
      envoy: e.envoy,
      host: e.host,
      service: e.service,
      offeredRps: e.offeredRps,
      achievedRps: e.achievedRps,
      source: e.source,
      cause: e.cause,
      detail: e.detail,
    }))
    .sort(
      (a, b) =>
        a.t - b.t ||
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
        a.envoy.localeCompare(b.envoy) ||
        a.host.localeCompare(b.host),
    );
}

/** Phases and injected faults frame the timeline; crashes and errors explain gaps in it. */
function runFrames(runEvents: RunEvent[]): Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> {
  return runEvents
    .filter((e) => e.kind === 'phase' || e.kind === 'fault' || e.kind === 'process-exit' || e.kind === 'error' || e.kind === 'push')
    .map((e) => {
      // A control-plane push is stamped when the Envoy was seen applying it (its update_success counter).
      const push = e.kind === 'push' ? (e.detail as { envoy?: string; latencyMs?: number | null } | undefined) : undefined;
      return {
        t: e.t,
        kind: 'run' as const,
        envoy: push?.envoy ?? '',
        host: '',
        service: '',
        source: 'run-events',
        cause: '',
        detail: push ? `push: ${e.what}, applied ${push.latencyMs ?? '?'} ms after the write` : `${e.kind}: ${e.what}`,
      };
    });
}

function ejectionsFromClusters(envoy: string, recs: ClustersRecord[], serviceOf: (e: string, h: string) => string, cause: string) {
  const out: Array<Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>> = [];
  const state = new Map<string, boolean>();
  let prevT: number | undefined;
  for (const r of recs) {
    if (!r.ok || !r.hosts) continue;
    for (const h of r.hosts) {
      const ej = h.flags.includes('failed_outlier_check');
      const was = state.get(h.address) ?? false;
      if (ej !== was)
        out.push({
          t: r.t,
          kind: ej ? 'eject' : 'uneject',
          envoy,
          host: h.address,
          service: serviceOf(envoy, h.address),
          source: 'clusters',
          cause,
          detail: `no outlier log; /clusters changed between ${prevT === undefined ? '?' : fmt(prevT)} s and ${fmt(r.t)} s`,
        });
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
    out.push({
      t: recs[i].t,
      kind: 'capture-gap',
      envoy: target,
      host: '',
      service: '',
      source: what,
      cause: '',
      detail: `${j - i + 1} failed ${what}(s) until ${fmt(recs[j].t)} s: ${recs[i].error ?? ''}`,
    });
    i = j;
  }
  return out;
}

function firstIndex(a: AccessColumns, pred: (k: number) => boolean): number {
  let best = -1;
  for (let k = 0; k < a.n; k++) if (pred(k) && (best < 0 || a.start[k] < a.start[best])) best = k;
  return best;
}

function firstIncrease(
  recs: ScrapeRecord[] | undefined,
  value: (s: Sample[]) => number | undefined,
): { t: number; prevT: number } | undefined {
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
const rose = (prev: number | null, t: number) =>
  prev === null ? `first seen above 0 at ${fmt(t)} s` : `rose between ${fmt(prev)} s and ${fmt(t)} s`;
const fmt = (t: number) => (Number.isFinite(t) ? t.toFixed(2) : '?');

/** The schedule's rate at instant t: the tick covering (t_k − 1, t_k], summed over scenarios. */
export function offeredAt(ticks: LoadTick[], t: number): number {
  let r = 0;
  for (const k of ticks) if (k.t - 1 < t && t <= k.t) r += k.target;
  return r;
}
