/**
 * One live event as a terminal line (above the progress line) or as one JSON line for scripts.
 * Words follow the report's: who did what to whom, the setting behind it, and the load at that moment.
 */
import { eventFields } from '../analysis/detected-event.ts';
import type { LiveEvent } from './event-feed.ts';
import { LIMIT_SETTINGS } from './mesh-metrics.ts';

const rate = (v: number | null, approx?: boolean) => (v === null ? '?' : `${approx ? '~' : ''}${Math.round(v)}/s`);

function what(e: LiveEvent): string {
  const svc = e.service ? ` (${e.service})` : '';
  switch (e.kind) {
    case 'overflow': {
      const lim = e.limits?.length ? e.limits.map((l) => `${l} (${LIMIT_SETTINGS[l] ?? l})`).join(', ') : 'not yet in its stats';
      return `circuit breaker overflow at ${e.envoy}${svc}, limit: ${lim}; first seen ${e.detail}`;
    }
    case 'eject':
      return `${e.envoy} ejected ${e.host}${svc}: ${e.detail}`;
    case 'uneject':
      return `${e.envoy} returned ${e.host}${svc}${e.detail ? ` ${e.detail}` : ''}`;
    case 'detected-not-enforced':
      return `${e.envoy} detected ${e.host}${svc} as an outlier, not ejected: ${e.detail}`;
    case 'no-healthy-upstream':
      return `no healthy upstream at ${e.envoy}: ${e.detail}`;
    case 'redirect-onset':
      return `traffic redirected to ${e.service}: ${e.detail}`;
    case 'redirect-end':
      return `traffic back on ${e.service}: ${e.detail}`;
    case 'recovery':
      return `recovered: ${e.detail}`;
    case 'upstream-5xx':
      return `${e.envoy}: ${e.detail}${svc}`;
    case 'service-rejected':
      return `service ${e.service || e.envoy} refused work (queue full)`;
    case 'capture-gap':
      return `telemetry gap at ${e.envoy}: ${e.detail}`;
    default:
      return e.detail;
  }
}

export function eventLine(e: LiveEvent): string {
  const load =
    e.kind === 'run' || e.kind === 'capture-gap'
      ? ''
      : `  [offered ${rate(e.offeredRps, e.offeredFromLastTick)}, achieved ${rate(e.achievedRps)}]`;
  const cause = e.cause ? `  -- ${e.cause}` : '';
  // How long after the event its line came: for an ejection, the delay behind Envoy's log entry.
  const lag = e.kind === 'run' ? '' : `  (+${Math.max(0, e.liveAt - e.t).toFixed(2)} s)`;
  return `${e.t.toFixed(2).padStart(7)}s  ${e.kind.padEnd(16)} ${what(e)}${cause}${load}${lag}`;
}

/** The report's event fields (events.csv) plus when the line was printed. */
export const eventJson = (e: LiveEvent) =>
  JSON.stringify({
    ...eventFields(e),
    liveAt: e.liveAt,
    ...(e.offeredFromLastTick ? { offeredFromLastTick: true } : {}),
    ...(e.limits ? { limits: e.limits } : {}),
  });
