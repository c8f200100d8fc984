/** What event detection (events.ts and its parts) finds in a run: one type, below every detector. */

export type EventKind =
  | 'overflow'
  | 'upstream-5xx'
  | 'service-rejected'
  | 'eject'
  | 'uneject'
  | 'detected-not-enforced'
  | 'no-healthy-upstream'
  | 'redirect-onset'
  | 'redirect-end'
  | 'recovery'
  | 'capture-gap'
  | 'run'
  /** outlier detection wanted to eject but maxEjectionPercent refused (ejections_overflow rose). */
  | 'ejection-blocked'
  /** The connection limit was reached (upstream_cx_overflow): requests queue, nothing is refused by it. */
  | 'connection-limit';

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

/** An event's fields in the one order events.csv, events.json and the live feed write them. */
export const eventFields = (e: DetectedEvent): DetectedEvent => ({
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
});
