/**
 * A workload's sidecar, inbound side (buildInboundListeners / buildInboundCluster): terminates mTLS
 * from the mesh (PeerAuthentication STRICT, or PERMISSIVE = mTLS and plaintext, Istio's default) and
 * hands requests to the app through `inbound|<port>||`, with the DestinationRule's connection pool
 * applied server-side, as Istio does.
 */
import type { WorkloadPlan } from './plan.ts';
import type { TranslateContext } from './context.ts';
import { trafficPolicyForPort } from './context.ts';
import { selectSidecar } from './sidecar-scope.ts';
import type { Json } from './resources.ts';
import { bootstrapBase, socketAddress, statPrefix } from './bootstrap.ts';
import { applyConnectionPool, applyRetryBudget } from './connection-pool.ts';
import { httpConnectionManager, route } from './http-connection-manager.ts';
import { defaultInboundRetry } from './istio-version.ts';
import { istioMutualDownstream, ISTIO_MTLS_ALPNS } from './tls.ts';

/**
 * Istio names inbound clusters by the container port; ours listens on a per-run loopback port, so
 * the service port keeps cluster names (and so stats labels) the same from run to run.
 */
export const inboundClusterName = (port: number) => `inbound|${port}||`;

type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

function mtlsMode(w: WorkloadPlan, ctx: TranslateContext): MtlsMode {
  const pa = ctx.resources.peerAuthentication(w.namespace);
  const portMode = pa?.spec?.portLevelMtls?.[String(w.port)]?.mode;
  const mode = portMode ?? pa?.spec?.mtls?.mode;
  return mode === 'STRICT' || mode === 'DISABLE' ? mode : 'PERMISSIVE';
}

/** Sidecar.inboundConnectionPool overrides the DR's pool inbound only (§9 vector 3). */
function inboundPool(w: WorkloadPlan, ctx: TranslateContext): Json | undefined {
  // The one Sidecar that applies to this pod (workloadSelector first, sidecar-scope.ts); a Sidecar
  // without namespace counts as this namespace's, as before.
  const own = ctx.resources.ofKind('Sidecar').map((s) => (s.namespace === undefined ? { ...s, namespace: w.namespace } : s));
  const sidecar = selectSidecar(own, w.namespace, w.labels ?? { app: w.service.toLowerCase() });
  if (sidecar?.spec.inboundConnectionPool) return sidecar.spec.inboundConnectionPool;
  const dr = ctx.resources.destinationRule(w.host);
  return trafficPolicyForPort(dr, w.port).policy?.connectionPool;
}

export function inboundSidecarBootstrap(w: WorkloadPlan, ctx: TranslateContext, opts: { role: string; delayMs: number }): Json {
  const proxy = w.sidecar;
  const clusterName = inboundClusterName(w.port);
  const cluster: Json = { name: clusterName, type: 'STATIC' };
  applyConnectionPool(cluster, inboundPool(w, ctx), ctx, { http: true, outbound: false });
  // istiod's applyConnectionPool takes the DR's retry budget inbound too (found by `spillover mesh diff`).
  applyRetryBudget(cluster, ctx.resources.destinationRule(w.host)?.spec?.trafficPolicy?.retryBudget);
  cluster.common_lb_config = {};
  cluster.load_assignment = {
    cluster_name: clusterName,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(w.app.ip, w.app.port) } }] }],
  };

  const hcm = () =>
    httpConnectionManager({
      statPrefix: statPrefix('inbound', proxy.inbound.ip, w.port),
      inbound: true,
      accessLogPath: proxy.files.accessLog,
      delayMs: opts.delayMs,
      routeConfig: {
        name: clusterName,
        validate_clusters: false,
        virtual_hosts: [
          {
            name: `inbound|http|${w.port}`,
            domains: ['*'],
            routes: [route(clusterName, '0s', defaultInboundRetry(ctx.version), 'default', `${w.host}:${w.port}/*`, { inbound: true })],
          },
        ],
      },
    });

  const mode = mtlsMode(w, ctx);
  const chains: Json[] = [];
  if (mode !== 'DISABLE') {
    chains.push({
      name: `${clusterName}-mtls`,
      filter_chain_match: { transport_protocol: 'tls', application_protocols: ISTIO_MTLS_ALPNS },
      transport_socket: istioMutualDownstream(proxy.identity),
      filters: [hcm()],
    });
  }
  if (mode !== 'STRICT') {
    chains.push({ name: `${clusterName}-plaintext`, filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [hcm()] });
  }

  const b = bootstrapBase(proxy, opts.role, ctx.version.text);
  b.static_resources.listeners.push({
    name: 'virtualInbound',
    address: socketAddress(proxy.inbound.ip, proxy.inbound.port),
    traffic_direction: 'INBOUND',
    listener_filters: [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
      },
    ],
    filter_chains: chains,
  });
  b.static_resources.clusters.push(cluster);
  return b;
}
