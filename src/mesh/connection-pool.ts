/**
 * DestinationRule connectionPool -> cluster fields (applyConnectionPool, applyDefaultConnectionPool,
 * applyRetryBudget, applyTCPKeepalive, shouldH2Upgrade). Applied to outbound, inbound and gateway
 * SNI-DNAT clusters alike: Istio enforces the DR's limits server-side as well.
 */
import type { Json } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { defaultCircuitBreakers, maxRequestsPerConnectionInProtocolOptions } from './istio-version.ts';
import { toEnvoyDuration, wholeSeconds } from '../util/duration.ts';

export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** meshConfig.connectTimeout default (DefaultMeshConfig). */
export const MESH_CONNECT_TIMEOUT = '10s';

export interface PoolOptions {
  /** The cluster speaks HTTP (false for tcp_proxy targets: no HttpProtocolOptions). */
  http: boolean;
  /** Outbound clusters may be upgraded to h2; inbound never are. */
  outbound: boolean;
  /** Mesh h2UpgradePolicy (default DO_NOT_UPGRADE). */
  meshH2Upgrade?: 'UPGRADE' | 'DO_NOT_UPGRADE';
  /** "DestinationRule a (file resources[1]): trafficPolicy" for warnings; outbound only. */
  where?: string;
}

/** Mutates `cluster`; returns whether the cluster ended up HTTP/2 (TLS ALPN depends on it). */
export function applyConnectionPool(cluster: Json, pool: Json | undefined, ctx: TranslateContext, opts: PoolOptions): boolean {
  const p = pool ?? {};
  const tcp = p.tcp ?? {};
  const http = p.http ?? {};

  cluster.connect_timeout = toEnvoyDuration(tcp.connectTimeout ?? MESH_CONNECT_TIMEOUT);

  const thresholds: Json = { ...defaultCircuitBreakers(ctx.version) };
  if (tcp.maxConnections > 0) thresholds.max_connections = tcp.maxConnections;
  if (http.http1MaxPendingRequests > 0) thresholds.max_pending_requests = http.http1MaxPendingRequests;
  if (http.http2MaxRequests > 0) thresholds.max_requests = http.http2MaxRequests;
  if (http.maxRetries > 0) thresholds.max_retries = http.maxRetries;
  cluster.circuit_breakers = { thresholds: [thresholds] };

  if (tcp.tcpKeepalive) {
    const ka: Json = {};
    if (tcp.tcpKeepalive.probes) ka.keepalive_probes = tcp.tcpKeepalive.probes;
    if (tcp.tcpKeepalive.time) ka.keepalive_time = wholeSeconds(tcp.tcpKeepalive.time);
    if (tcp.tcpKeepalive.interval) ka.keepalive_interval = wholeSeconds(tcp.tcpKeepalive.interval);
    cluster.upstream_connection_options = { tcp_keepalive: ka };
  }

  if (!opts.http) return false;

  const common: Json = {};
  const idle = http.idleTimeout ?? tcp.idleTimeout;
  if (idle) common.idle_timeout = toEnvoyDuration(idle);
  if (tcp.maxConnectionDuration) common.max_connection_duration = toEnvoyDuration(tcp.maxConnectionDuration);

  const h2 = opts.outbound && shouldH2Upgrade(opts.meshH2Upgrade ?? 'DO_NOT_UPGRADE', http.h2UpgradePolicy, !!http.useClientProtocol, true);
  const explicit: Json = h2 ? { http2_protocol_options: h2Options(http) } : { http_protocol_options: {} };
  if (!h2 && opts.where) {
    for (const f of ['maxConcurrentStreams', 'http2KeepAlive'])
      if (http[f] !== undefined)
        ctx.warnings.push(
          `${opts.where}.connectionPool.http.${f} has no effect: the cluster speaks HTTP/1.1 (Istio applies it to HTTP/2 clusters only); set connectionPool.http.h2UpgradePolicy: UPGRADE to use it`,
        );
  }

  if (http.maxRequestsPerConnection > 0) {
    if (maxRequestsPerConnectionInProtocolOptions(ctx.version)) common.max_requests_per_connection = http.maxRequestsPerConnection;
    else cluster.max_requests_per_connection = http.maxRequestsPerConnection;
  }

  // istiod creates HttpProtocolOptions only when it has something to say (Envoy's default is HTTP/1.1).
  if (!Object.keys(common).length && !h2 && !http.useClientProtocol) return h2;
  const hpo: Json = { '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}` };
  if (Object.keys(common).length) hpo.common_http_protocol_options = common;
  if (http.useClientProtocol) hpo.use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: {} };
  // Envoy requires an upstream protocol whenever HttpProtocolOptions exists, so build() inserts one.
  else hpo.explicit_http_config = explicit;
  cluster.typed_extension_protocol_options = { [HTTP_PROTOCOL_OPTIONS]: hpo };
  return h2;
}

function h2Options(http: Json): Json {
  const o: Json = {};
  if (http.maxConcurrentStreams > 0) o.max_concurrent_streams = http.maxConcurrentStreams;
  if (http.http2KeepAlive) {
    o.connection_keepalive = {};
    if (http.http2KeepAlive.interval) o.connection_keepalive.interval = toEnvoyDuration(http.http2KeepAlive.interval);
    if (http.http2KeepAlive.timeout) o.connection_keepalive.timeout = toEnvoyDuration(http.http2KeepAlive.timeout);
  }
  return o;
}

/** shouldH2Upgrade: DR policy beats mesh; useClientProtocol blocks; DEFAULT follows mesh for HTTP ports only. */
export function shouldH2Upgrade(mesh: string, dr: string | undefined, useClientProtocol: boolean, portIsHttp: boolean): boolean {
  if (useClientProtocol) return false;
  if (dr === 'UPGRADE') return true;
  if (dr === 'DO_NOT_UPGRADE') return false;
  return portIsHttp && mesh === 'UPGRADE';
}

/** trafficPolicy.retryBudget -> thresholds[0].retry_budget (replaces max_retries in Envoy). */
export function applyRetryBudget(cluster: Json, budget: Json | undefined) {
  if (!budget) return;
  const rb: Json = {
    budget_percent: { value: budget.percent ?? 20 },
    min_retry_concurrency: budget.minRetryConcurrency ?? 3,
  };
  if (budget.budgetInterval) rb.budget_interval = toEnvoyDuration(budget.budgetInterval);
  cluster.circuit_breakers.thresholds[0].retry_budget = rb;
}
