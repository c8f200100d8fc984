/**
 * Event detection: when the circuit breaker first overflowed, which host was ejected and released,
 * when traffic moved to B and back, when "no healthy upstream" first appeared, when the run recovered.
 * Each event carries the load at that moment and the setting that explains it.
 */
import type { LoadTick, RunEvent } from '../contracts/raw.ts';
import { r3 } from './timeseries.ts';
import { achievedAt } from './windows.ts';
import { redirectEvents } from './redirect-events.ts';
import { eventFields, type DetectedEvent, type EventKind } from './detected-event.ts';
import { eventScope, fmt, type EventInputs, type RawEvent } from './event-scan.ts';
import { overflowEvents } from './overflow-events.ts';
import { serviceRejectedEvents, upstream5xxEvents } from './upstream-events.ts';
import { ejectionEvents, noHealthyUpstreamEvents } from './ejection-events.ts';

export type { DetectedEvent, EventKind } from './detected-event.ts';
export type { EventInputs } from './event-scan.ts';

/**
 * The only scraped series event detection reads. The reader drops every other sample, so a long run's
 * scrapes (megabytes per minute per Envoy) do not have to sit in memory.
 */
export const USED_METRICS =
  /(_upstream_rq_pending_overflow|_upstream_rq_retry_overflow|_upstream_cx_overflow|_upstream_cx_pool_overflow|_outlier_detection_ejections_active|_outlier_detection_ejections_overflow|_upstream_cx_none_healthy)$|^spillover_service_(shadow_)?requests_total$/;

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
  const scope = eventScope(inp);
  const { roles, envoyNames } = scope;
  // Detectors run in this order; events of one instant, kind, Envoy and host keep it (stable sort).
  const out: RawEvent[] = [...overflowEvents(scope), ...upstream5xxEvents(scope), ...serviceRejectedEvents(scope)];
  out.push(...ejectionEvents(scope), ...noHealthyUpstreamEvents(scope));
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

  return withLoad(inp, out);
}

/** Attach the load at each event's instant, round, fix the key order and sort the timeline. */
function withLoad(inp: EventInputs, out: RawEvent[]): DetectedEvent[] {
  return out
    .map((e) => ({
      ...e,
      t: r3(e.t),
      offeredRps: inp.closedLoop ? null : r3(offeredAt(inp.ticks, e.t)),
      achievedRps: inp.fine.n ? r3(achievedAt(inp.fine, e.t)) : null,
    }))
    .map(eventFields)
    .sort(
      (a, b) =>
        a.t - b.t ||
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
        a.envoy.localeCompare(b.envoy) ||
        a.host.localeCompare(b.host),
    );
}

/** Phases and injected faults frame the timeline; crashes and errors explain gaps in it. */
function runFrames(runEvents: RunEvent[]): RawEvent[] {
  return runEvents
    .filter((e) => ['phase', 'fault', 'process-exit', 'error', 'push', 'pod'].includes(e.kind))
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

function gaps(target: string, what: string, recs: Array<{ t: number; ok: boolean; error?: string }>) {
  const out: RawEvent[] = [];
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

/** The schedule's rate at instant t: the tick covering (t_k − 1, t_k], summed over scenarios. */
export function offeredAt(ticks: LoadTick[], t: number): number {
  let r = 0;
  for (const k of ticks) if (k.t - 1 < t && t <= k.t) r += k.target;
  return r;
}
