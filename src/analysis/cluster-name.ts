/**
 * Finding one Envoy cluster's series among Prometheus samples when the cluster name has dots.
 *
 * With Istio's stats_tags regex the label carries the full name (`outbound|80||a.istio.svc.cluster.local`)
 * and the metric name is clean. Without it, Envoy's default extractor takes only the first dotted
 * token as the label (`outbound|80||a`) and the rest of the name leaks into the metric name
 * (`envoy_cluster_istio_svc_cluster_local_upstream_rq_total`). Both forms are accepted.
 */
import type { Sample } from '../contracts/telemetry.ts';

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');

export interface ClusterSeriesKey {
  /** Metric names this stat may have for the cluster, e.g. envoy_cluster_upstream_rq_total. */
  names: Set<string>;
  labels: Set<string>;
}

export function clusterSeriesKey(cluster: string, stat: string): ClusterSeriesKey {
  const dot = cluster.indexOf('.');
  const names = new Set([`envoy_cluster_${stat}`]);
  const labels = new Set([cluster]);
  if (dot > 0) {
    labels.add(cluster.slice(0, dot));
    names.add(`envoy_cluster_${sanitize(cluster.slice(dot + 1))}_${stat}`);
  }
  return { names, labels };
}

/** Sum of the matching samples (one per cluster normally; per-endpoint stats sum over hosts). */
export function clusterValue(
  samples: Sample[],
  key: ClusterSeriesKey,
  extra?: (labels: Record<string, string>) => boolean,
): number | undefined {
  let sum: number | undefined;
  for (const [name, labels, value] of samples) {
    if (!key.names.has(name)) continue;
    const c = labels.envoy_cluster_name;
    if (c === undefined || !key.labels.has(c)) continue;
    if (extra && !extra(labels)) continue;
    if (value === null || Number.isNaN(value)) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** Sum over all clusters of an envoy (e.g. A's inbound sidecar, whose cluster names we do not know). */
export function statAcrossClusters(samples: Sample[], stat: string): number | undefined {
  let sum: number | undefined;
  const suffix = `_${stat}`;
  for (const [name, labels, value] of samples) {
    if (!name.startsWith('envoy_cluster_') || !name.endsWith(suffix)) continue;
    if (labels.envoy_cluster_name === undefined) continue;
    // Exclude longer stats sharing the suffix, e.g. ..._retry_upstream_rq_pending_overflow.
    const middle = name.slice('envoy_cluster_'.length, name.length - suffix.length);
    if (middle !== '' && !looksLikeLeakedClusterName(middle)) continue;
    if (value === null || Number.isNaN(value)) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** Leaked name fragments come from DNS-like names: istio_svc_cluster_local and the like. */
const looksLikeLeakedClusterName = (middle: string) => /(^|_)(svc|cluster|local|global)(_|$)/.test(middle);
