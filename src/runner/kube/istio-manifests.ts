/**
 * Istio multi-primary, multi-network, as istio.io documents it (facts istio-translation §8): per
 * cluster the `istio-system` namespace labelled with its network, the plug-in CA secret, an
 * IstioOperator for istiod with meshID / clusterName / network, an east-west gateway with
 * REQUESTED_NETWORK_VIEW, and the AUTO_PASSTHROUGH Gateway of samples/multicluster/expose-services.yaml.
 *
 * Remote secrets only for `discovery: multi-primary` (steps-istio.ts): the study federates with a
 * ServiceEntry per cluster ("replicated control planes"), and endpoint discovery across clusters would
 * add B a second time, through istiod's network gateway rewrite, next to the ServiceEntry endpoint.
 *
 * The mesh config switches on what the analysis needs and Istio leaves out by default: outlier
 * detection and circuit-breaker stats (istio/istio#18973), the outlier event log, and a JSON access log
 * with the same keys as the local backend's (src/mesh/access-log.ts).
 */
import type { Experiment } from '../../experiment/schema.ts';
import { HTTP_ACCESS_LOG_FORMAT } from '../../mesh/access-log.ts';
import { MESH_ID } from './versions.ts';
import { eastWestPort } from './kube-model.ts';
import type { KubeObject } from './validate.ts';

export const ISTIO_NS = 'istio-system';
export const EASTWEST = { name: 'istio-eastwestgateway', selector: { istio: 'eastwestgateway' } } as const;
export const ACCESS_LOG_PROVIDER = 'spillover-json';

/**
 * Envoy stats Istio drops unless asked (proxyStatsMatcher). Regexes over Envoy's stat names; the
 * capture filters again, so erring on the side of more is cheap.
 */
export const STATS_INCLUSION_REGEXPS = [
  '.*outlier_detection.*',
  '.*circuit_breakers.*',
  '.*upstream_rq_.*',
  '.*upstream_cx_.*',
  '.*membership_.*',
  '.*retry.*',
];

/** Per-pod form of the same, for meshes the harness did not install (kube backend). */
export const proxyConfigAnnotation = () => ({
  'proxy.istio.io/config': JSON.stringify({ proxyStatsMatcher: { inclusionRegexps: STATS_INCLUSION_REGEXPS } }),
});

export function istioSystemNamespace(network: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NS, labels: { ...labels, 'topology.istio.io/network': network } } };
}

export function controlPlane(spec: Experiment, cluster: string, labels: Record<string, string>): KubeObject {
  const { network } = spec.topology.clusters[cluster];
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'spillover-control-plane', namespace: ISTIO_NS, labels },
    spec: {
      profile: 'minimal',
      meshConfig: {
        outlierLogPath: '/dev/stdout',
        defaultConfig: { proxyStatsMatcher: { inclusionRegexps: STATS_INCLUSION_REGEXPS } },
        extensionProviders: [
          { name: ACCESS_LOG_PROVIDER, envoyFileAccessLog: { path: '/dev/stdout', logFormat: { labels: { ...HTTP_ACCESS_LOG_FORMAT } } } },
        ],
        defaultProviders: { accessLogging: [ACCESS_LOG_PROVIDER] },
      },
      values: {
        global: { meshID: MESH_ID, multiCluster: { clusterName: cluster }, network },
      },
    },
  };
}

/** samples/multicluster/gen-eastwest-gateway.sh --network <network>, as an object. */
export function eastWestGateway(spec: Experiment, cluster: string, labels: Record<string, string>): KubeObject {
  const { network } = spec.topology.clusters[cluster];
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'spillover-eastwest', namespace: ISTIO_NS, labels },
    spec: {
      profile: 'empty',
      components: {
        ingressGateways: [
          {
            name: EASTWEST.name,
            enabled: true,
            label: { ...EASTWEST.selector, app: EASTWEST.name, 'topology.istio.io/network': network },
            k8s: {
              env: [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network }],
              service: {
                ports: [
                  { name: 'status-port', port: 15021, targetPort: 15021 },
                  { name: 'tls', port: eastWestPort(spec), targetPort: 15443 },
                  { name: 'tls-istiod', port: 15012, targetPort: 15012 },
                  { name: 'tls-webhook', port: 15017, targetPort: 15017 },
                ],
              },
            },
          },
        ],
      },
      values: { gateways: { 'istio-ingressgateway': { injectionTemplate: 'gateway' } }, global: { network } },
    },
  };
}

/**
 * The experiment's ingress gateway (topology.clusters.<c>.ingressGateway): Istio's istio-ingressgateway
 * component with the experiment's pod labels, which its `Gateway` resources select.
 */
export function ingressGatewayOperator(spec: Experiment, cluster: string, labels: Record<string, string>): KubeObject {
  const c = spec.topology.clusters[cluster];
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'spillover-ingress', namespace: ISTIO_NS, labels },
    spec: {
      profile: 'empty',
      components: { ingressGateways: [{ name: 'istio-ingressgateway', enabled: true, label: { ...(c.ingressGateway?.labels ?? {}) } }] },
      values: { gateways: { 'istio-ingressgateway': { injectionTemplate: 'gateway' } }, global: { network: c.network } },
    },
  };
}

/** samples/multicluster/expose-services.yaml. */
export function crossNetworkGateway(spec: Experiment, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'Gateway',
    metadata: { name: 'cross-network-gateway', namespace: ISTIO_NS, labels },
    spec: {
      selector: { ...EASTWEST.selector },
      servers: [
        { port: { number: eastWestPort(spec), name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] },
      ],
    },
  };
}
