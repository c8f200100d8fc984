/**
 * Which circuit breaker tripped, read from Envoy's own counters rather than guessed from the pool
 * settings: each overflow counter names one limit (envoy-semantics §1.2-1.3, §4.3):
 *
 * - upstream_rq_pending_overflow: a request refused with 503 UO. Envoy counts both the pending-queue
 *   limit (http1MaxPendingRequests) and the parallel-requests limit (http2MaxRequests) here; there is
 *   no separate "requests overflow" counter.
 * - upstream_rq_retry_overflow: a retry not made because maxRetries retries were already outstanding.
 * - upstream_cx_overflow: the connection limit (tcp.maxConnections) was reached; requests then wait in
 *   the pending queue, nothing is refused by this alone (and Envoy still opens a pool's first connection).
 * - upstream_cx_pool_overflow: max_connection_pools (not settable from a DestinationRule).
 *
 * The DestinationRule's pool applies on both sides (istio-translation §1, "Inbound clusters also get
 * the limits"): on the client's outbound cluster and on A's inbound sidecar.
 */
import type { ScrapeRecord, TopologyManifest } from '../contracts/raw.ts';
import type { Sample } from '../contracts/telemetry.ts';
import { clusterSeriesKey, clusterValue, statAcrossClusters } from './cluster-name.ts';
import type { ConfigFacts } from './config-facts.ts';

export type BreakerCounter =
  'upstream_rq_pending_overflow' | 'upstream_rq_retry_overflow' | 'upstream_cx_overflow' | 'upstream_cx_pool_overflow';

export const BREAKER_COUNTERS: BreakerCounter[] = [
  'upstream_rq_pending_overflow',
  'upstream_rq_retry_overflow',
  'upstream_cx_overflow',
  'upstream_cx_pool_overflow',
];

export interface BreakerTrip {
  envoy: string;
  /** "client sidecar (outbound)", "A's sidecar (inbound, server side)", ... */
  side: string;
  counter: BreakerCounter;
  /** The limit as the DestinationRule names it, with its value. */
  limit: string;
  /** True when the trip refuses or fails requests (pending/requests and retries); false for connections. */
  refuses: boolean;
  firstS: number;
  prevS: number | null;
  /** The counter's last scraped value. */
  total: number;
}

const ROLE_SIDE: Record<string, string> = {
  client: "the client's sidecar (outbound cluster to A and B)",
  'a-sidecar': "A's own sidecar (inbound, server side)",
  gateway: 'the east-west gateway',
  'ingress-gateway': "the ingress gateway (the mesh's edge: the outside client's requests enter there)",
  'b-sidecar': "B's own sidecar (inbound, server side)",
};

export const sideOf = (topology: TopologyManifest | undefined, envoy: string) => ROLE_SIDE[topology?.envoys?.[envoy]?.role ?? ''] ?? envoy;

const setting = (cp: Record<string, unknown> | undefined, group: 'tcp' | 'http', key: string) => {
  const v = (cp?.[group] as Record<string, unknown> | undefined)?.[key];
  return `${group}.${key}=${v === undefined ? 'unset' : String(v)}`;
};

export function limitFor(counter: BreakerCounter, f: ConfigFacts): string {
  const cp = f.connectionPool;
  switch (counter) {
    case 'upstream_rq_pending_overflow':
      return `${setting(cp, 'http', 'http1MaxPendingRequests')} or ${setting(cp, 'http', 'http2MaxRequests')} (Envoy counts both in this counter)`;
    case 'upstream_rq_retry_overflow':
      return setting(cp, 'http', 'maxRetries');
    case 'upstream_cx_overflow':
      return setting(cp, 'tcp', 'maxConnections');
    case 'upstream_cx_pool_overflow':
      return 'max_connection_pools (not set by Istio)';
  }
}

/** Every overflow counter that rose, per Envoy, in first-rise order. */
export function breakerTrips(
  topology: TopologyManifest | undefined,
  config: ConfigFacts,
  scrapes: Record<string, ScrapeRecord[]>,
): BreakerTrip[] {
  const out: BreakerTrip[] = [];
  const roles = topology?.envoys ?? {};
  for (const envoy of Object.keys(scrapes).sort()) {
    // Service /metrics targets have no envoy_cluster_* series: nothing rises there.
    const isClient = roles[envoy]?.role === 'client' && topology?.clientCluster;
    for (const counter of BREAKER_COUNTERS) {
      const value = (s: Sample[]) =>
        isClient ? clusterValue(s, clusterSeriesKey(topology!.clientCluster, counter)) : statAcrossClusters(s, counter);
      const r = rises(scrapes[envoy], value);
      if (r)
        out.push({
          envoy,
          side: sideOf(topology, envoy),
          counter,
          limit: limitFor(counter, config),
          refuses: counter !== 'upstream_cx_overflow',
          firstS: r.t,
          prevS: Number.isFinite(r.prevT) ? r.prevT : null,
          total: r.last,
        });
    }
  }
  return out.sort((a, b) => a.firstS - b.firstS || a.envoy.localeCompare(b.envoy) || a.counter.localeCompare(b.counter));
}

/** First scrape at which the value rose (from the previous scrape, or from 0), and its last value. */
export function rises(
  recs: ScrapeRecord[] | undefined,
  value: (s: Sample[]) => number | undefined,
): { t: number; prevT: number; last: number } | undefined {
  let prev: number | undefined;
  let prevT = NaN;
  let first: { t: number; prevT: number } | undefined;
  let last = 0;
  for (const r of recs ?? []) {
    if (!r.ok || !r.samples) continue;
    const v = value(r.samples);
    if (v === undefined) continue;
    if (!first && (prev !== undefined ? v > prev : v > 0)) first = { t: r.t, prevT };
    prev = v;
    prevT = r.t;
    last = v;
  }
  return first ? { ...first, last } : undefined;
}
