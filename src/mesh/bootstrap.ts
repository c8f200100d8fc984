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
 * `.svc.cluster.local` name. The tag keeps Envoy's name (`envoy.cluster_name`) so the Prometheus
 * label is `envoy_cluster_name` like per-endpoint stats, whose tags Envoy sets without extractors.
 */
export const ISTIO_STATS_TAGS = [
  { tag_name: 'envoy.cluster_name', regex: '^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)' },
  { tag_name: 'envoy.tcp_prefix', regex: '^tcp\\.((.*?)\\.)\\w+?$' },
];

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
    stats_config: { stats_tags: ISTIO_STATS_TAGS, use_all_default_tags: true },
    static_resources: { listeners: [] as Json[], clusters: [] as Json[] },
  };
}

export const socketAddress = (ip: string, port: number) => ({ socket_address: { address: ip, port_value: port } });
