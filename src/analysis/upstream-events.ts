/**
 * What outlier detection counts and what lies behind it: the first 5xx an upstream sent (not a local
 * reply), per Envoy, and a service refusing work because its own queue is full.
 */
import type { Sample } from '../contracts/telemetry.ts';
import { FLAG_BITS } from './access-log.ts';
import { firstIncrease, firstIndex, fmt, type EventScope, type RawEvent } from './event-scan.ts';

export function upstream5xxEvents(scope: EventScope): RawEvent[] {
  const { inp, envoyNames, serviceOf } = scope;
  const out: RawEvent[] = [];
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
  return out;
}

/** The load-bearing cause behind upstream 503s. */
export function serviceRejectedEvents(scope: EventScope): RawEvent[] {
  const { inp } = scope;
  const out: RawEvent[] = [];
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
  return out;
}
