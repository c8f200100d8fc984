/**
 * Ejections and their consequence. The outlier event log is exact; gauges and /clusters confirm it
 * (or stand in when the log is missing or was not flushed before the run ended). With every host of
 * a priority set ejected and panic routing disabled, the client answers "no healthy upstream" (UH).
 */
import type { ClustersRecord } from '../contracts/raw.ts';
import type { Sample } from '../contracts/telemetry.ts';
import { FLAG_BITS } from './access-log.ts';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from './cluster-name.ts';
import { describeOutlier } from './config-facts.ts';
import { earliest, firstAtOrAfter, firstIncrease, firstIndex, fmt, type EventScope, type RawEvent } from './event-scan.ts';
import type { OutlierEvent } from './outlier-log.ts';

export function ejectionEvents(scope: EventScope): RawEvent[] {
  const { inp, serviceOf } = scope;
  const out: RawEvent[] = [];
  for (const envoy of scope.envoyNames) {
    const log = inp.outlier[envoy] ?? [];
    out.push(...outlierLogEvents(scope, envoy, log));
    if (log.length === 0)
      out.push(...ejectionsFromClusters(envoy, inp.clusters[envoy] ?? [], serviceOf, describeOutlier(inp.config, undefined)));
  }
  return out;
}

/** One Envoy's outlier log, each ejection with what the gauge and /clusters saw after it. */
function outlierLogEvents(scope: EventScope, envoy: string, log: OutlierEvent[]): RawEvent[] {
  const { inp, roles, clientCluster, serviceOf } = scope;
  const out: RawEvent[] = [];
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
  return out;
}

function ejectionsFromClusters(envoy: string, recs: ClustersRecord[], serviceOf: (e: string, h: string) => string, cause: string) {
  const out: RawEvent[] = [];
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

export function noHealthyUpstreamEvents(scope: EventScope): RawEvent[] {
  const { inp, roles, clientCluster, envoyNames } = scope;
  const out: RawEvent[] = [];
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
  return out;
}
