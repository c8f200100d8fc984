/**
 * Circuit-breaker events, per Envoy: the first overflow (the earliest of access-log UO, an overflow
 * counter's rise, the driver's x-envoy-overloaded header, its cause the limit whose counter rose, see
 * breakers.ts), the connection limit being reached, and ejections maxEjectionPercent refused.
 */
import { FLAG_BITS } from './access-log.ts';
import { breakerTrips, type BreakerTrip } from './breakers.ts';
import { blockedEjections } from './ejection-overflow.ts';
import { earliest, firstIndex, fmt, rose, type EventScope, type RawEvent } from './event-scan.ts';

export function overflowEvents(scope: EventScope): RawEvent[] {
  const { inp } = scope;
  const trips = breakerTrips(inp.topology, inp.config, inp.scrapes);
  const out = scope.envoyNames.flatMap((envoy) => firstOverflow(scope, envoy, trips));
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
  return out;
}

function firstOverflow(scope: EventScope, envoy: string, trips: BreakerTrip[]): RawEvent[] {
  const { inp, roles } = scope;
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
  if (!first) return [];
  const cause = mine.length
    ? mine.map((x) => `${x.limit} [${x.counter}]`).join('; ')
    : 'a circuit breaker (no overflow counter was scraped to say which limit)';
  return [
    {
      t: first.t,
      kind: 'overflow',
      envoy,
      host: '',
      service: isClient ? '' : roles[envoy]?.role === 'a-sidecar' ? 'A' : roles[envoy]?.role === 'b-sidecar' ? 'B' : '',
      source: first.source,
      cause,
      detail: cands.map((c) => `${c.source} ${fmt(c.t)} s${c.source === 'scrape' ? `: ${c.detail}` : ''}`).join('; '),
    },
  ];
}
