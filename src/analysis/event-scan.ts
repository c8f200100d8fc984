/**
 * What every event detector (events.ts and its parts) shares: the inputs, the run's Envoys and their
 * roles, the shape of an event before load figures are attached, and the small scans over access
 * logs and scrapes that find "the first time X happened".
 */
import type { ClustersRecord, LoadTick, RunEvent, ScrapeRecord, TopologyManifest } from '../contracts/raw.ts';
import type { Sample } from '../contracts/telemetry.ts';
import type { AccessColumns } from './access-log.ts';
import type { ConfigFacts } from './config-facts.ts';
import type { DetectedEvent } from './detected-event.ts';
import type { OutlierEvent } from './outlier-log.ts';
import type { FineBuckets } from './windows.ts';

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

/** An event as a detector finds it; the load at that moment is attached once, at the end. */
export type RawEvent = Omit<DetectedEvent, 'offeredRps' | 'achievedRps'>;

/** The inputs and what every detector derives from them the same way. */
export interface EventScope {
  inp: EventInputs;
  roles: NonNullable<TopologyManifest['envoys']>;
  /** Every Envoy the run has data or a role for, sorted (the order events of one instant keep). */
  envoyNames: string[];
  clientCluster: string | undefined;
  /** The service a host is, as the client sees it ('' at a sidecar, which sees only its own service). */
  serviceOf: (envoy: string, host: string) => string;
}

export function eventScope(inp: EventInputs): EventScope {
  const roles = inp.topology?.envoys ?? {};
  const envoyNames = [
    ...new Set([...Object.keys(roles), ...Object.keys(inp.access), ...Object.keys(inp.outlier), ...Object.keys(inp.clusters)]),
  ].sort();
  const clientCluster = inp.topology?.clientCluster;
  const serviceOf = (envoy: string, host: string) =>
    roles[envoy]?.role === 'client' || !roles[envoy] ? (inp.topology?.endpoints?.[host]?.service ?? '') : '';
  return { inp, roles, envoyNames, clientCluster, serviceOf };
}

export function firstIndex(a: AccessColumns, pred: (k: number) => boolean): number {
  let best = -1;
  for (let k = 0; k < a.n; k++) if (pred(k) && (best < 0 || a.start[k] < a.start[best])) best = k;
  return best;
}

export function firstIncrease(
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

export function firstAtOrAfter<T extends { t: number }>(recs: T[] | undefined, t: number, pred: (r: T) => boolean): number | undefined {
  for (const r of recs ?? []) if (r.t >= t - 0.001 && pred(r)) return r.t;
  return undefined;
}

export const earliest = <T extends { t: number }>(c: T[]) =>
  c.reduce<T | undefined>((m, x) => (m === undefined || x.t < m.t ? x : m), undefined);
export const rose = (prev: number | null, t: number) =>
  prev === null ? `first seen above 0 at ${fmt(t)} s` : `rose between ${fmt(prev)} s and ${fmt(t)} s`;
export const fmt = (t: number) => (Number.isFinite(t) ? t.toFixed(2) : '?');
