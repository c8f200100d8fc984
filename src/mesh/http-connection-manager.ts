/**
 * The HTTP connection manager istiod puts on sidecar listeners, minus the Istio-only filters
 * (istio.metadata_exchange, istio.alpn, istio.stats) that upstream Envoy lacks.
 */
import type { Json } from './resources.ts';
import { fileAccessLog, HTTP_ACCESS_LOG_FORMAT } from './access-log.ts';

export const HCM = 'envoy.filters.network.http_connection_manager';

export const faultFilter = (delayMs = 0): Json => {
  const cfg: Json = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' };
  if (delayMs > 0) cfg.delay = { fixed_delay: `${delayMs / 1000}s`, percentage: { numerator: 100, denominator: 'HUNDRED' } };
  return { name: 'envoy.filters.http.fault', typed_config: cfg };
};

const corsFilter = () => ({
  name: 'envoy.filters.http.cors',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' },
});
const routerFilter = () => ({
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
});

export interface HcmOptions {
  statPrefix: string;
  routeConfig: Json;
  accessLogPath: string;
  inbound: boolean;
  /** Fixed delay added by the fault filter (the WAN stand-in). */
  delayMs?: number;
  /** A gateway at the mesh's edge (istiod's gateway HCM): it uses the caller's address (use_remote_address). */
  edge?: boolean;
}

export function httpConnectionManager(o: HcmOptions): Json {
  const cfg: Json = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: o.statPrefix,
    route_config: o.routeConfig,
    http_filters: [faultFilter(o.delayMs), corsFilter(), routerFilter()],
    access_log: [fileAccessLog(o.accessLogPath, HTTP_ACCESS_LOG_FORMAT)],
    // Sidecars never act as the edge: Envoy then keeps the caller's x-request-id end to end.
    use_remote_address: !!o.edge,
    preserve_external_request_id: false,
    normalize_path: true,
    path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
    stream_idle_timeout: '0s',
    proxy_100_continue: true,
    upgrade_configs: [{ upgrade_type: 'websocket' }],
  };
  if (o.inbound) {
    // istiod names the server only on the inbound side.
    cfg.server_name = 'istio-envoy';
    cfg.forward_client_cert_details = 'APPEND_FORWARD';
    cfg.set_current_client_cert_details = { subject: true, dns: true, uri: true };
  } else if (o.edge) {
    // istiod's gateway HCM (buildGatewayHTTPConnectionManager): the edge drops any XFCC the caller sent.
    cfg.server_name = 'istio-envoy';
    cfg.forward_client_cert_details = 'SANITIZE_SET';
    cfg.set_current_client_cert_details = { subject: true, cert: true, dns: true, uri: true };
    cfg.http_protocol_options = {};
  }
  return { name: HCM, typed_config: cfg };
}

/** A route as istiod writes it: prefix "/", timeout (0s = none), optional retry policy; the decorator names `<host>:<port>/*`. */
export function route(
  cluster: string,
  timeout: string,
  retry: Json | undefined,
  name: string | undefined,
  operation: string,
  o: { inbound?: boolean } = {},
): Json {
  // istiod still writes the deprecated max_grpc_timeout (= the route timeout) outbound; inbound routes use max_stream_duration.
  const action: Json = o.inbound
    ? { cluster, timeout, max_stream_duration: { max_stream_duration: '0s', grpc_timeout_header_max: '0s' } }
    : { cluster, timeout, max_grpc_timeout: timeout };
  if (retry) action.retry_policy = retry;
  // A VirtualService route is named by its http[].name (unnamed: no name); istiod's default route is "default".
  return { ...(name ? { name } : {}), match: { prefix: '/' }, route: action, decorator: { operation } };
}

/** istiod bounds the TLS handshake on its outbound and passthrough listener chains. */
export const TRANSPORT_SOCKET_CONNECT_TIMEOUT = '15s';
