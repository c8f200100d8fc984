/**
 * What the client's sidecar does with a host its Sidecar egress does not import (istiod's
 * outboundTrafficPolicy handling, httproute.go / cluster_builder.go / listener.go):
 *
 * - a route config exists for the port (another imported service uses it): the catch-all virtual
 *   host `allow_any` -> PassthroughCluster (ALLOW_ANY, the default) or `block_all` -> direct 502
 *   (REGISTRY_ONLY);
 * - no imported service on the port, so no HTTP listener: virtualOutbound's TCP chain, tcp_proxy to
 *   PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY: the connection is closed).
 *
 * istiod's PassthroughCluster is ORIGINAL_DST: the request goes to the Service IP and kube-proxy picks a
 * pod, in plain text and without the DestinationRule. On loopback there is no original destination,
 * so here it is a STATIC cluster of the hidden hosts' pods in the client's cluster (their sidecars'
 * inbound, which accepts plain text unless PeerAuthentication is STRICT).
 */
import type { TranslateContext } from './context.ts';
import type { Json } from './resources.ts';
import type { ServiceView } from './endpoints.ts';
import type { EgressScope } from './sidecar-scope.ts';
import { socketAddress } from './bootstrap.ts';

export const PASSTHROUGH = 'PassthroughCluster';
const MAX = 4294967295;
export const BLACKHOLE = 'BlackHoleCluster';

export function catchAllVirtualHost(policy: EgressScope['outboundTrafficPolicy']): Json {
  if (policy === 'REGISTRY_ONLY') {
    return {
      name: 'block_all',
      domains: ['*'],
      routes: [{ name: 'block_all', match: { prefix: '/' }, direct_response: { status: 502 } }],
      include_request_attempt_count: true,
    };
  }
  return {
    name: 'allow_any',
    domains: ['*'],
    routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH, timeout: '0s', max_grpc_timeout: '0s' } }],
    include_request_attempt_count: true,
  };
}

/** The pods a request to a hidden host reaches through the Service IP: its pods in the client's cluster. */
export function passthroughCluster(hidden: ServiceView[], ctx: TranslateContext): Json {
  const pods = hidden.flatMap((v) => (v.pods ?? []).filter((p) => p.sidecar.cluster === ctx.plan.client.cluster));
  return {
    name: PASSTHROUGH,
    type: 'STATIC',
    connect_timeout: '10s',
    lb_policy: 'ROUND_ROBIN',
    // As istiod's: no limits, and the downstream's HTTP version upstream.
    circuit_breakers: { thresholds: [{ max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { idle_timeout: '300s' },
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: PASSTHROUGH,
      endpoints: pods.length
        ? [{ lb_endpoints: pods.map((p) => ({ endpoint: { address: socketAddress(p.sidecar.inbound.ip, p.sidecar.inbound.port) } })) }]
        : [],
    },
  };
}

export const blackHoleCluster = (): Json => ({ name: BLACKHOLE, type: 'STATIC', connect_timeout: '10s', lb_policy: 'ROUND_ROBIN' });

/** The TCP chain of virtualOutbound when the port has no HTTP listener. */
export function tcpFallback(policy: EgressScope['outboundTrafficPolicy'], statPrefix: string): Json {
  const cluster = policy === 'REGISTRY_ONLY' ? BLACKHOLE : PASSTHROUGH;
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      stat_prefix: statPrefix,
      cluster,
    },
  };
}

/** Says in the run's caveats what egress scoping did to each hidden host. */
export function hiddenHostWarnings(hidden: ServiceView[], scope: EgressScope, http: boolean, ctx: TranslateContext): string[] {
  const label = scope.sidecar ? ctx.resources.describe(scope.sidecar) : 'Sidecar';
  return hidden.map((v) => {
    const local = (v.pods ?? []).some((p) => p.sidecar.cluster === ctx.plan.client.cluster);
    const what =
      scope.outboundTrafficPolicy === 'REGISTRY_ONLY'
        ? http
          ? 'Envoy answers 502 (block_all) to requests for it'
          : 'the client has no listener for it: its connections are closed (BlackHoleCluster)'
        : local
          ? `its requests pass through (PassthroughCluster) in plain text to its pods in ${ctx.plan.client.cluster}, without mTLS, DestinationRule or locality load balancing`
          : `its requests pass through (PassthroughCluster), but it has no pods in ${ctx.plan.client.cluster}, so they fail`;
    return `${label}: spec.egress does not import ${v.host} (namespace ${v.namespace}), so the client gets no cluster or route for it; with outboundTrafficPolicy ${scope.outboundTrafficPolicy} ${what}`;
  });
}
