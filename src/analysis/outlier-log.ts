/**
 * Envoy's outlier event log (OutlierDetectionEvent JSON, one per line) → run-clock events.
 *
 * Quirks handled (facts/envoy-semantics.md §5.4): UNEJECT lines carry the enum default type
 * CONSECUTIVE_5XX and enforced=false, both meaningless; `secs_since_last_action` is a string; EJECT
 * lines with enforced=false are detections that did not eject and are kept apart.
 */
import { toRunSeconds } from '../contracts/raw.ts';

export interface OutlierEvent {
  t: number;
  action: 'EJECT' | 'UNEJECT';
  /** Detector type for EJECT; undefined for UNEJECT (the logged value is not meaningful there). */
  type?: string;
  enforced: boolean;
  cluster: string;
  host: string;
  numEjections?: number;
  secsSinceLastAction?: number;
}

/** RFC 3339 with 0–9 fractional digits; Date.parse is not trusted beyond milliseconds. */
export function parseRfc3339Ms(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return undefined;
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}

export function parseOutlierLine(line: string, t0Epoch: number): OutlierEvent | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  const action = o.action;
  if (action !== 'EJECT' && action !== 'UNEJECT') return undefined;
  const ms = typeof o.timestamp === 'string' ? parseRfc3339Ms(o.timestamp) : undefined;
  if (ms === undefined) return undefined;
  const secs = o.secs_since_last_action;
  return {
    t: toRunSeconds(ms, t0Epoch),
    action,
    ...(action === 'EJECT' ? { type: String(o.type ?? 'CONSECUTIVE_5XX') } : {}),
    enforced: action === 'UNEJECT' ? true : o.enforced === true,
    cluster: String(o.cluster_name ?? ''),
    host: String(o.upstream_url ?? '').replace(/^tcp:\/\//, ''),
    ...(o.num_ejections !== undefined ? { numEjections: Number(o.num_ejections) } : {}),
    ...(secs !== undefined && secs !== null ? { secsSinceLastAction: Number(secs) } : {}),
  };
}

export function parseOutlierLog(text: string, t0Epoch: number): OutlierEvent[] {
  const out: OutlierEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const e = parseOutlierLine(line, t0Epoch);
    if (e) out.push(e);
  }
  // The log is written in order, but sort anyway: analysis must not depend on write order.
  return out.sort((a, b) => a.t - b.t || a.host.localeCompare(b.host));
}
