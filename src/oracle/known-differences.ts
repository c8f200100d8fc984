/**
 * The differences between src/mesh's configuration and istiod's that are deliberate, each with its
 * reason (src/mesh/README.md "Known differences" says the same for users). `spillover mesh diff`
 * excuses exactly these and fails on anything else. Each entry matches narrow paths -- never "any
 * field of a cluster" -- so a wrong circuit breaker, outlier setting, LB policy, priority, SNI, SAN,
 * ALPN (beyond the one telemetry protocol), protocol option, retry policy, timeout or filter order
 * still fails the diff.
 */
import type { MeshPlan } from '../mesh/plan.ts';
import type { Difference } from './differ.ts';

export interface KnownDifference {
  id: string;
  reason: string;
  matches(d: Difference, plan: MeshPlan): boolean;
}

const any =
  (...res: RegExp[]) =>
  (d: Difference) =>
    res.some((re) => re.test(d.path));
const onlyIstiod = (d: Difference) => d.ours === undefined;
const endpointPort = (d: Difference, plan: MeshPlan) =>
  typeof d.ours === 'string' &&
  typeof d.istiod === 'string' &&
  plan.workloads.some((w) => d.ours === `${w.sidecar.inbound.ip}:${w.sidecar.inbound.port}` && d.istiod === `${w.app.ip}:${w.app.port}`);

const SIDECARS_OUTBOUND = /^(clusters\/outbound\||listeners\/outbound-http\||routes\/\d+\/)/;

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    id: 'files-instead-of-sds',
    reason:
      'upstream Envoy has no istio-agent: the same certificates come from the run CA\'s files instead of the SDS secrets "default" and "ROOTCA"',
    matches: (d) =>
      /\/common_tls_context\/(identity|trust)$/.test(d.path) &&
      JSON.stringify(d.ours).includes('file:') &&
      JSON.stringify(d.istiod).includes('sds:'),
  },
  {
    id: 'static-instead-of-eds',
    reason: "no xDS server: endpoints are written into a STATIC load_assignment (by istiod's EDS rules) instead of EDS",
    matches: (d) =>
      /^clusters\/[^/]+\/(type|eds_cluster_config)$/.test(d.path) &&
      (d.ours === 'STATIC' || d.ours === undefined) &&
      (d.istiod === 'EDS' || d.path.endsWith('eds_cluster_config')),
  },
  {
    id: 'no-iptables',
    reason:
      "no iptables on loopback: clients dial the sidecar's inbound port (15006) instead of the pod port, inbound is one listener on the pod address with a STATIC cluster to the app (no ORIGINAL_DST, no 127.0.0.6 bind, no destination_port match), and the client's listener is on its own address instead of 0.0.0.0:<port> behind virtualOutbound; stat prefixes name those addresses",
    matches: (d, plan) =>
      endpointPort(d, plan) ||
      any(
        /^clusters\/inbound\|\d+\|\|\/(type|lb_policy|upstream_bind_config|cleanup_interval|endpoints)$/,
        /^listeners\/inbound\|\d+\|\w+\/filter_chain_match\/destination_port$/,
        /^listeners\/outbound-http\|\d+\/filter_chain_match$/,
        /^listeners\/[^/]+\/filters\[0\]\/stat_prefix$/,
      )(d),
  },
  {
    id: 'not-on-the-traffic-path',
    reason:
      "src/mesh generates only what the experiment's traffic crosses: no catch-all clusters, listeners or virtual hosts (BlackHole, Passthrough, InboundPassthrough, virtualOutbound, allow_any), no outbound side on A's and B's sidecars, no regular outbound clusters on the gateway",
    matches: (d, plan) =>
      onlyIstiod(d) &&
      (any(
        /^clusters\/(BlackHoleCluster|PassthroughCluster|InboundPassthroughCluster)$/,
        /^listeners\/(virtualOutbound\|[^/]+|inbound\|(\?|15006)\|[^/]+)$/,
        /^routes\/(\d+\/allow_any|InboundPassthroughCluster\/[^/]+)$/,
      )(d) ||
        // An ingress gateway's outbound side is its traffic path: nothing of it is excused here.
        (d.proxy !== plan.client.name &&
          !(plan.ingressGateways ?? []).some((g) => g.name === d.proxy) &&
          SIDECARS_OUTBOUND.test(d.path) &&
          !/^clusters\/outbound_\./.test(d.path))),
  },
  {
    id: 'passthrough-without-original-dst',
    reason:
      "no iptables, so no original destination: a host the Sidecar's egress does not import passes through (ALLOW_ANY) to a STATIC PassthroughCluster of its pods in the client's cluster (what kube-proxy would pick behind the Service IP) instead of istiod's ORIGINAL_DST cluster, and when no imported service is left on the port the client's own listener carries virtualOutbound's tcp_proxy chain (to PassthroughCluster or BlackHoleCluster)",
    matches: (d, plan) =>
      d.proxy === plan.client.name &&
      (/^clusters\/PassthroughCluster\/(type|lb_policy|endpoints)$/.test(d.path) ||
        (d.istiod === undefined && d.path === `listeners/${plan.client.outbound.ip}_${plan.client.outbound.port}|0`)),
  },
  {
    id: 'telemetry-only',
    reason:
      'telemetry, not traffic: istiod\'s tracing, request-id extension, grpc_stats filter, istio metadata and alt_stat_name; the harness\'s own access logs and per-endpoint stats; the "istio-peer-exchange" ALPN, which istiod drops here because metadata exchange (an Istio-only filter upstream Envoy lacks) is off',
    matches: (d) =>
      any(
        /\/filters\[0\]\/(tracing|request_id_extension|access_log)$/,
        /^clusters\/[^/]+\/(metadata|alt_stat_name|track_cluster_stats)$/,
        /\/lb_endpoints\[\d+\]\/metadata\/filter_metadata\/istio$/,
      )(d) ||
      (/\/(lb_endpoints|routes)\[\d+\]\/metadata$/.test(d.path) && d.ours === undefined && onlyKeyIstio(d.istiod)) ||
      (/\/filters\[0\]\/http_filters$/.test(d.path) && sameWithout(d, ['envoy.filters.http.grpc_stats'])) ||
      (/\/common_tls_context\/alpn_protocols$/.test(d.path) && sameWithout(d, ['istio-peer-exchange'])),
  },
];

/** The two lists are equal once the named entries are taken out of both. */
function sameWithout(d: Difference, names: string[]): boolean {
  if (!Array.isArray(d.ours) || !Array.isArray(d.istiod)) return false;
  const strip = (l: unknown[]) => JSON.stringify(l.filter((x) => !names.includes(String(x))));
  return strip(d.ours) === strip(d.istiod);
}

const onlyKeyIstio = (x: unknown) => {
  const fm = (x as { filter_metadata?: Record<string, unknown> })?.filter_metadata;
  return !!fm && Object.keys(fm).length === 1 && 'istio' in fm;
};
