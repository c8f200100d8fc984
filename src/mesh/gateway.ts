/**
 * cluster-2's east-west gateway, AUTO_PASSTHROUGH on 15443 (builtAutoPassthroughFilterChains,
 * buildOutboundSniDnatClusters): routes on the ClientHello's SNI without terminating TLS, one filter
 * chain per service port visible in its cluster, to an SNI-named cluster of the local endpoints.
 */
import type { TranslateContext } from './context.ts';
import type { GatewayPlan } from './plan.ts';
import { subsetsOf } from './subsets.ts';
import type { Json } from './resources.ts';
import { bootstrapBase, socketAddress } from './bootstrap.ts';
import { serviceView } from './endpoints.ts';
import { buildOutboundCluster, istioSni } from './outbound-cluster.ts';
import { autoPassthroughPerServiceChains } from './istio-version.ts';
import { ISTIO_MTLS_ALPNS } from './tls.ts';
import { TRANSPORT_SOCKET_CONNECT_TIMEOUT } from './http-connection-manager.ts';
import { fileAccessLog, TCP_ACCESS_LOG_FORMAT } from './access-log.ts';

const tcpProxy = (cluster: string, accessLog: string): Json => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    stat_prefix: cluster,
    cluster,
    access_log: [fileAccessLog(accessLog, TCP_ACCESS_LOG_FORMAT)],
  },
});

const EXPOSED_HOSTS = /\.local$/;

export function gatewayBootstrap(ctx: TranslateContext, gw: GatewayPlan = ctx.plan.gateway!): Json {
  const { plan } = ctx;
  const b = bootstrapBase(gw, 'gateway', ctx.version.text);

  const seen = new Set<string>();
  const chains: Json[] = [];
  // The services its istiod knows: its own cluster's, or with multi-primary every cluster's; the
  // SNI-DNAT clusters then keep the endpoints of the gateway's own network only.
  const known = plan.workloads.filter(
    (x) => x.sidecar.cluster === gw.cluster || (plan.discovery === 'multi-primary' && x.sidecar.network === gw.network),
  );
  for (const w of known) {
    if (seen.has(istioSni(w.port, w.host))) continue;
    const view = serviceView(w.host, gw.cluster, ctx, { serviceEntries: false })!;
    // One chain for the host, and one per subset of a DestinationRule applied in the gateway's cluster.
    for (const subset of [undefined, ...subsetsOf(ctx.resources.destinationRule(w.host))]) {
      const sni = istioSni(w.port, w.host, subset?.name);
      if (seen.has(sni)) continue;
      seen.add(sni);
      b.static_resources.clusters.push(buildOutboundCluster(view, gw, ctx, { name: sni, sniDnat: true, subset }).cluster);
      // expose-services.yaml's Gateway passes `*.local` hosts only: istiod builds the SNI cluster of
      // every service but a filter chain only for those (found by `spillover mesh diff`).
      if (!EXPOSED_HOSTS.test(w.host)) {
        if (!subset)
          ctx.warnings.push(
            `east-west gateway (${gw.cluster}): ${w.host} is not exposed (the multi-network Gateway passes *.local hosts only), so requests for it through the gateway are refused`,
          );
        continue;
      }
      chains.push({
        name: sni,
        transport_socket_connect_timeout: TRANSPORT_SOCKET_CONNECT_TIMEOUT,
        filter_chain_match: { server_names: [sni], application_protocols: ISTIO_MTLS_ALPNS },
        filters: [tcpProxy(sni, gw.files.accessLog)],
      });
    }
  }

  if (!autoPassthroughPerServiceChains(ctx.version)) {
    // Before the May-2021 fix one chain served every SNI: sni_cluster rewrites tcp_proxy's target.
    chains.length = 0;
    chains.push({
      name: 'auto-passthrough',
      filters: [
        {
          name: 'envoy.filters.network.sni_cluster',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.sni_cluster.v3.SniCluster' },
        },
        tcpProxy('BlackHoleCluster', gw.files.accessLog),
      ],
    });
    b.static_resources.clusters.push({ name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' });
  }

  // Nothing exposed: no listener (istiod sends none, and Envoy refuses a listener without chains).
  if (!chains.length) return b;
  b.static_resources.listeners.push({
    name: `${gw.listener.ip}_${gw.listener.port}`,
    address: socketAddress(gw.listener.ip, gw.listener.port),
    listener_filters: [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
      },
    ],
    filter_chains: chains,
  });
  return b;
}
