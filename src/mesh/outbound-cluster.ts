/**
 * An outbound cluster as istiod builds it for one service port (buildOutboundClusters +
 * applyTrafficPolicy): default pool and circuit breakers, the DR's policy for that port, LB,
 * outlier detection, TLS, and the endpoints with failover priorities. Also used for the east-west
 * gateway's SNI-DNAT clusters, which take the same policy without TLS (SniDnatClusterMode).
 */
import type { ProxyCommon } from './plan.ts';
import type { TranslateContext } from './context.ts';
import { trafficPolicyForPort } from './context.ts';
import type { Json } from './resources.ts';
import type { EndpointSpec, ServiceView } from './endpoints.ts';
import { applyConnectionPool, applyRetryBudget } from './connection-pool.ts';
import { applyOutlierDetection } from './outlier-detection.ts';
import { envoyLocality, failoverPriorities } from './locality.ts';
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
  opts: { name: string; sniDnat: boolean },
): BuiltCluster {
  const dr = ctx.resources.destinationRule(view.host);
  const label = dr ? ctx.resources.describe(dr) : '';
  const { policy, path } = trafficPolicyForPort(dr, view.port);
  const cluster: Json = { name: opts.name, type: 'STATIC' };

  const h2 = applyConnectionPool(cluster, policy?.connectionPool, ctx, {
    http: !opts.sniDnat,
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
  if (dr?.spec?.subsets?.length)
    ctx.warnings.push(
      `${label}: spec.subsets are not modelled by this harness (no subset clusters or gateway chains are generated); route to the host itself`,
    );

  applyOutlierDetection(cluster, policy?.outlierDetection, ctx, { label, path });

  // enableFailover: outlier detection present and locality LB on (mesh default, unless the DR opts out).
  const lls = lb?.localityLbSetting;
  const localityOn = lls ? lls.enabled !== false : localityLbOnByDefault(ctx.version);
  if (lls && (lls.distribute || lls.failover || lls.failoverPriority))
    ctx.warnings.push(
      `${label}: ${path}.loadBalancer.localityLbSetting distribute/failover/failoverPriority are not modelled; plain locality failover is used`,
    );
  const failover = !!policy?.outlierDetection && localityOn;
  const priorities = failoverPriorities(
    proxy.locality,
    view.endpoints.map((e) => e.locality),
    failover,
  );
  const endpoints = view.endpoints.map((e, i) => ({ ...e, priority: priorities[i] }));

  if (!opts.sniDnat) applyClusterTls(cluster, view, proxy, ctx, policy?.tls, h2, label, path);

  // Harness instrumentation, not istiod's: per-endpoint stats let the analysis tell A from the gateway.
  cluster.track_cluster_stats = { per_endpoint_stats: true };
  // Since 1.31 istiod sends unhealthy endpoints, so it turns the panic threshold off on every cluster
  // whose outlier detection did not set one (PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS).
  if (sendsUnhealthyEndpoints(ctx.version) && cluster.common_lb_config?.healthy_panic_threshold === undefined)
    cluster.common_lb_config = { ...(cluster.common_lb_config ?? {}), healthy_panic_threshold: { value: 0 } };
  cluster.common_lb_config ??= {};
  cluster.load_assignment = loadAssignment(opts.name, endpoints);
  return { cluster, endpoints };
}

/** One LocalityLbEndpoints per (locality, priority), weighted by its endpoint count as istiod does. */
function loadAssignment(name: string, endpoints: Array<EndpointSpec & { priority: number }>): Json {
  const groups = new Map<string, Json>();
  for (const e of endpoints) {
    const key = `${e.priority}|${e.locality}`;
    if (!groups.has(key)) {
      const g: Json = { priority: e.priority, lb_endpoints: [] };
      const loc = envoyLocality(e.locality);
      if (loc) g.locality = loc;
      groups.set(key, g);
    }
    // As istiod's EDS writes them: explicit weight and health, and the tlsMode label of mesh endpoints.
    const lbe: Json = { endpoint: { address: socketAddress(e.ip, e.port) }, load_balancing_weight: 1 };
    // Ready Kubernetes endpoints are HEALTHY; ServiceEntry endpoints carry no health status.
    if (e.origin.startsWith('workload ')) lbe.health_status = 'HEALTHY';
    if (e.tlsMode === 'istio') lbe.metadata = { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: e.tlsMode } } };
    groups.get(key).lb_endpoints.push(lbe);
  }
  const list = [...groups.values()].sort((a, b) => a.priority - b.priority);
  for (const g of list) g.load_balancing_weight = g.lb_endpoints.length;
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
) {
  const sni = istioSni(view.port, view.host);
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
