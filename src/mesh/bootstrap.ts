/**
 * The parts of a bootstrap every proxy shares: node identity and locality, admin on loopback, the
 * outlier event log, and Istio's stats tag extractors.
 */
import type { ProxyCommon } from './plan.ts';
import type { Json } from './resources.ts';
import { envoyLocality } from './locality.ts';

/**
 * Istio's bootstrap cluster_name extractor (tools/packaging/common/envoy_bootstrap.json). Envoy's
 * default takes only the first dot-separated token, which would cut
 * `outbound|80||a.istio.svc.cluster.local` to `outbound|80||a`; Istio's regex keeps the whole
 * `.svc.cluster.local` name. It keeps Envoy's tag name (`envoy.cluster_name`) so the Prometheus label
 * is `envoy_cluster_name`, the same as on per-endpoint stats, whose tags Envoy sets without extractors.
 *
 * Envoy's default extractors would still run first and win (checked on Envoy 1.40), so, like Istio,
 * the bootstrap turns them off and names the defaults it keeps (a tag with only a name gets Envoy's
 * default regex).
 */
export const ISTIO_CLUSTER_NAME_REGEX = '^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)';

const KEPT_DEFAULT_TAGS = [
  'envoy.response_code',
  'envoy.response_code_class',
  'envoy.http_conn_manager_prefix',
  'envoy.listener_address',
  'envoy.tcp_prefix',
  'envoy.virtual_host',
  'envoy.virtual_cluster',
  'envoy.worker_id',
  'envoy.ssl_cipher',
  'envoy.ssl_version',
];

export const STATS_CONFIG = {
  use_all_default_tags: false,
  stats_tags: [{ tag_name: 'envoy.cluster_name', regex: ISTIO_CLUSTER_NAME_REGEX }, ...KEPT_DEFAULT_TAGS.map((tag_name) => ({ tag_name }))],
};

/** Stat prefixes without dots, so that the default prefix extractors keep them whole. */
export const statPrefix = (direction: 'inbound' | 'outbound', ip: string, port: number) =>
  `${direction}_${ip.replaceAll('.', '_')}_${port}`;

export function bootstrapBase(proxy: ProxyCommon, role: string, istioVersion: string): Json {
  const node: Json = {
    id: proxy.name,
    cluster: proxy.name,
    metadata: { CLUSTER_ID: proxy.cluster, NETWORK: proxy.network, ISTIO_VERSION: istioVersion, SPILLOVER_ROLE: role },
  };
  const locality = envoyLocality(proxy.locality);
  if (locality) node.locality = locality;
  return {
    node,
    admin: { address: { socket_address: { address: proxy.admin.ip, port_value: proxy.admin.port } } },
    cluster_manager: { outlier_detection: { event_log_path: proxy.files.outlierLog } },
    stats_config: STATS_CONFIG,
    static_resources: { listeners: [] as Json[], clusters: [] as Json[] },
  };
}

export const socketAddress = (ip: string, port: number) => ({ socket_address: { address: ip, port_value: port } });
