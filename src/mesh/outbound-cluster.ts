/**
 * An outbound cluster as istiod builds it for one service port (buildOutboundClusters +
 * applyTrafficPolicy): default pool and circuit breakers, the DR's policy for that port, LB,
 * outlier detection, TLS, and the endpoints with failover priorities. Also used for the east-west
 * gateway's SNI-DNAT clusters, which take the same policy without TLS (SniDnatClusterMode).
 */
import type { ProxyCommon } from './plan.ts';
import type { TranslateContext } from './context.ts';
import type { Json } from './resources.ts';
import type { EndpointSpec, ServiceView } from './endpoints.ts';
import { applyConnectionPool, applyRetryBudget } from './connection-pool.ts';
import { applyOutlierDetection } from './outlier-detection.ts';
import { envoyLocality, localityLabels } from './locality.ts';
import { applyLocalityLb, groupByLocality, type LbGroup } from './locality-lb.ts';
import { filterByNetwork } from './endpoints.ts';
import { selectSubset, subsetPolicyForPort, type SubsetDef } from './subsets.ts';
import { defaultLbPolicy, istioMutualAlpn, localityLbOnByDefault, sendsUnhealthyEndpoints } from './istio-version.ts';
import { istioMutualUpstream, rawBufferSocket, userTlsUpstream } from './tls.ts';
import { socketAddress } from './bootstrap.ts';

export const outboundClusterName = (port: number, host: string, subset = '') => `outbound|${port}|${subset}|${host}`;
/** BuildDNSSrvSubsetKey: `outbound_.<port>_.<subset>_.<host>`, subset empty gives `_._`. */
export const istioSni = (port: number, host: string, subset = '') => `outbound_.${port}_.${subset}_.${host}`;

export interface BuiltCluster {
  cluster: Json;
  /** The endpoints with the priority each got. */
  endpoints: Array<EndpointSpec & { priority: number }>;
}

const LB: Record<string, string> = {
  ROUND_ROBIN: 'ROUND_ROBIN',
  LEAST_CONN: 'LEAST_REQUEST',
  LEAST_REQUEST: 'LEAST_REQUEST',
  RANDOM: 'RANDOM',
};

export function buildOutboundCluster(
  view: ServiceView,
  proxy: ProxyCommon,
  ctx: TranslateContext,
  opts: { name: string; sniDnat: boolean; subset?: SubsetDef },
): BuiltCluster {
  const dr = ctx.resources.destinationRule(view.host);
  const label = dr ? ctx.resources.describe(dr) : '';
  const { policy, path } = subsetPolicyForPort(dr, view.port, opts.subset);
  const cluster: Json = { name: opts.name, type: 'STATIC' };

  const h2 = applyConnectionPool(cluster, policy?.connectionPool, ctx, {
    // istiod applies the whole pool to the gateway's SNI-DNAT clusters too (applyTrafficPolicy).
    http: true,
    outbound: true,
    where: opts.sniDnat || !dr ? undefined : `${label}: ${path}`,
  });
  applyRetryBudget(cluster, dr?.spec?.trafficPolicy?.retryBudget);

  cluster.lb_policy = defaultLbPolicy(ctx.version);
  const lb = policy?.loadBalancer;
  if (lb?.simple && lb.simple !== 'UNSPECIFIED') {
    if (LB[lb.simple]) cluster.lb_policy = LB[lb.simple];
    else
      ctx.warnings.push(
        `${label}: ${path}.loadBalancer.simple ${lb.simple} is not modelled by the local backend; ${cluster.lb_policy} is used`,
      );
  }
  for (const f of ['consistentHash', 'zoneAwareLbSetting', 'warmup', 'warmupDurationSecs'])
    if (lb?.[f] !== undefined)
      ctx.warnings.push(`${label}: ${path}.loadBalancer.${f} is not modelled by this harness; ${cluster.lb_policy} is used without it`);

  applyOutlierDetection(cluster, policy?.outlierDetection, ctx, { label, path });

  // Subset clusters take the pods carrying the subset's labels; other networks go through their gateway.
  const selected = opts.subset ? selectSubset(view.endpoints, opts.subset.labels) : view.endpoints;
  const reachable = filterByNetwork(selected, proxy.network, ctx, { sniDnat: opts.sniDnat });
  const { groups, localityWeighted } = localityGroups(reachable, proxy, ctx, lb?.localityLbSetting, !!policy?.outlierDetection);
  if (localityWeighted) cluster.common_lb_config = { ...(cluster.common_lb_config ?? {}), locality_weighted_lb_config: {} };
  const endpoints = groups.flatMap((g) => g.endpoints.map((e) => ({ ...e, priority: g.priority })));

  if (!opts.sniDnat) applyClusterTls(cluster, view, proxy, ctx, policy?.tls, h2, label, path, opts.subset?.name);

  // Harness instrumentation, not istiod's: per-endpoint stats let the analysis tell A from the gateway.
  cluster.track_cluster_stats = { per_endpoint_stats: true };
  // Since 1.31 istiod sends unhealthy endpoints, so it turns the panic threshold off on every cluster
  // whose outlier detection did not set one (PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS).
  if (sendsUnhealthyEndpoints(ctx.version) && cluster.common_lb_config?.healthy_panic_threshold === undefined)
    cluster.common_lb_config = { ...(cluster.common_lb_config ?? {}), healthy_panic_threshold: { value: 0 } };
  cluster.common_lb_config ??= {};
  cluster.load_assignment = loadAssignment(opts.name, groups);
  return { cluster, endpoints };
}

/**
 * The effective localityLbSetting (the DR's, else the mesh default of `enabled: true`), applied the
 * way ApplyLocalityLoadBalancer does; failover needs outlier detection (enableFailover).
 */
function localityGroups(
  endpoints: EndpointSpec[],
  proxy: ProxyCommon,
  ctx: TranslateContext,
  lls: Json | undefined,
  outlierDetection: boolean,
) {
  const setting = lls ?? (localityLbOnByDefault(ctx.version) ? { enabled: true } : undefined);
  const weighted = endpoints.map((e) => ({ ...e, weight: e.weight ?? 1 }));
  const proxyLabels = {
    ...localityLabels(proxy.locality),
    'topology.istio.io/cluster': proxy.cluster,
    'topology.istio.io/network': proxy.network,
  };
  return applyLocalityLb(groupByLocality(weighted), { locality: proxy.locality, labels: proxyLabels }, setting, outlierDetection);
}

/** One LocalityLbEndpoints per (locality, priority), weighted by its endpoints' weight as istiod does. */
function loadAssignment(name: string, groups: LbGroup[]): Json {
  // A locality `distribute` emptied stays, without endpoints, as istiod's EDS keeps it.
  const list = groups
    .map((g) => {
      const out: Json = { priority: g.priority, lb_endpoints: [] };
      const loc = envoyLocality(g.locality);
      if (loc) out.locality = loc;
      for (const e of g.endpoints) {
        // As istiod's EDS writes them: explicit weight and health, and the tlsMode label of mesh endpoints.
        const lbe: Json = { endpoint: { address: socketAddress(e.ip, e.port) }, load_balancing_weight: e.weight };
        // Ready Kubernetes endpoints are HEALTHY; ServiceEntry endpoints carry no health status.
        if (e.origin.startsWith('workload ')) lbe.health_status = 'HEALTHY';
        if (e.tlsMode === 'istio') lbe.metadata = { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: e.tlsMode } } };
        out.lb_endpoints.push(lbe);
      }
      out.load_balancing_weight = g.weight ?? g.endpoints.reduce((sum, e) => sum + e.weight, 0);
      return out;
    })
    .sort((a, b) => a.priority - b.priority);
  return { cluster_name: name, endpoints: list };
}

function applyClusterTls(
  cluster: Json,
  view: ServiceView,
  proxy: ProxyCommon,
  ctx: TranslateContext,
  tls: Json,
  h2: boolean,
  label: string,
  path: string,
  subset = '',
) {
  const sni = istioSni(view.port, view.host, subset);
  const alpn = istioMutualAlpn(ctx.version, h2);
  const mode = tls?.mode ?? 'AUTO';
  if (mode === 'DISABLE') return;
  if (mode === 'SIMPLE' || mode === 'MUTUAL') {
    cluster.transport_socket = userTlsUpstream(tls, tls.sni);
    return;
  }
  const sans: string[] = tls?.subjectAltNames?.length ? tls.subjectAltNames : view.serviceAccounts;
  const mtls = istioMutualUpstream(proxy.identity, tls?.sni ?? sni, sans, alpn);
  if (mode === 'ISTIO_MUTUAL') {
    // User-supplied ISTIO_MUTUAL: one socket for every endpoint, the gateway included.
    cluster.transport_socket = mtls;
    checkSans(view, view.endpoints, sans, ctx);
    return;
  }
  // No DR tls: auto-mTLS dials tlsMode=istio endpoints with mTLS and the rest in plaintext.
  cluster.transport_socket_matches = [
    { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: mtls },
    { name: 'tlsMode-disabled', match: {}, transport_socket: rawBufferSocket() },
  ];
  checkSans(
    view,
    view.endpoints.filter((e) => e.tlsMode === 'istio'),
    sans,
    ctx,
  );
  for (const e of view.endpoints.filter((x) => x.tlsMode === 'disabled' && x.service !== 'external')) {
    ctx.warnings.push(
      `${e.origin}: ${e.ip}:${e.port} is dialled in plaintext (auto-mTLS: ${label ? `${label.split(' (')[0]} sets no ${path}.tls` : 'no DestinationRule applies'} and the endpoint has no serviceAccount or security.istio.io/tlsMode label), so the east-west gateway will refuse it; set ${path}.tls.mode: ISTIO_MUTUAL in the DestinationRule`,
    );
  }
}

/** The client checks the server's SPIFFE id; B must carry one of the service's identities (§5 pitfall). */
function checkSans(view: ServiceView, endpoints: EndpointSpec[], sans: string[], ctx: TranslateContext) {
  for (const e of endpoints) {
    const w = ctx.plan.workloads.find((x) => x.service === e.service);
    if (!w || sans.includes(w.sidecar.identity.spiffe)) continue;
    ctx.warnings.push(
      `${e.origin}: mTLS to ${e.ip}:${e.port} will fail: ${w.service}'s identity ${w.sidecar.identity.spiffe} is not among the SANs the client checks for ${view.host} (${sans.join(', ') || 'none'}); give ${w.service} the namespace and service account of the service, or list its identity in the ServiceEntry's subjectAltNames`,
    );
  }
}
