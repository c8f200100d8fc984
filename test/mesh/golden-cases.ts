/**
 * The translation's golden cases: the Istio unit-test vectors of the fact sheet (§9, 1-10), each as a
 * small MeshPlan, plus peak-load as the experiment defines it, across the Istio releases whose
 * semantics differ for it.
 */
import type { MeshConfig, MeshPlan } from '../../src/mesh/plan.ts';
import { basePlan, dr, peakLoadResources, type PlanOptions } from './plans.ts';

export interface GoldenCase {
  name: string;
  /** What the case pins down, written at the top of its golden file. */
  about: string;
  plan(o?: Pick<PlanOptions, 'runDir'>): MeshPlan;
  /** The part of the output the golden file holds (default: everything). */
  select?(m: MeshConfig, p: MeshPlan): unknown;
}

const EXAMPLE = { host: 'foo.example.org', port: 8080 };

/** For unit vectors: the client's outbound cluster, A's inbound cluster, and the warnings. */
const clusters = (m: MeshConfig, p: MeshPlan) => ({
  outbound: (m.bootstraps[p.client.name] as any).static_resources.clusters[0],
  inbound: (m.bootstraps[p.workloads[0].sidecar.name] as any).static_resources.clusters[0],
  warnings: m.warnings,
});
const outboundOnly = (m: MeshConfig, p: MeshPlan) => ({ outbound: clusters(m, p).outbound, warnings: m.warnings });
const route = (m: MeshConfig, p: MeshPlan) =>
  (m.bootstraps[p.client.name] as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0]
    .routes[0];

const se = (name: string, host: string, port: number, endpoints: Array<Record<string, unknown>>) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name },
  spec: {
    hosts: [host],
    ports: [{ name: 'http', number: port, protocol: 'HTTP' }],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    endpoints,
  },
});

const vector = (
  name: string,
  about: string,
  resources: Array<Record<string, unknown>>,
  select: GoldenCase['select'] = clusters,
  extra: PlanOptions = {},
): GoldenCase => ({
  name,
  about,
  plan: (o = {}) => basePlan(resources, { ...EXAMPLE, ...extra, ...o }),
  select,
});

const POOL = {
  http: { http1MaxPendingRequests: 1, http2MaxRequests: 2, maxRequestsPerConnection: 3, maxRetries: 4 },
  tcp: { maxConnections: 1, connectTimeout: '2s', tcpKeepalive: { probes: 3, time: '4s', interval: '5s' }, maxConnectionDuration: '6s' },
};

const withoutTls = () => {
  const r = peakLoadResources();
  delete (r[1] as any).spec.trafficPolicy.tls;
  return r;
};

export const GOLDEN_CASES: GoldenCase[] = [
  vector('v01-circuit-breaker-defaults', 'TestConnectionPoolSettings "no settings": default thresholds on outbound and inbound', [
    dr('*.example.org'),
  ]),
  vector('v02-full-connection-pool', 'TestConnectionPoolSettings "destination rule settings no sidecar"', [
    dr('*.example.org', { connectionPool: POOL }),
  ]),
  vector('v03-sidecar-inbound-pool', 'Sidecar.inboundConnectionPool overrides the DR inbound only', [
    dr('*.example.org', { connectionPool: POOL }),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'example' },
      spec: {
        inboundConnectionPool: {
          tcp: { maxConnections: 4 },
          http: { http1MaxPendingRequests: 5, http2MaxRequests: 6, maxRequestsPerConnection: 7, maxRetries: 8 },
        },
      },
    },
  ]),
  vector(
    'v04a-idle-timeout-tcp',
    'TestApplyConnectionPool: tcp.idleTimeout alone sets idle_timeout',
    [dr('*.example.org', { connectionPool: { tcp: { idleTimeout: '10s' } } })],
    outboundOnly,
  ),
  vector(
    'v04b-idle-timeout-http-wins',
    'TestApplyConnectionPool: http.idleTimeout beats tcp.idleTimeout',
    [dr('*.example.org', { connectionPool: { tcp: { idleTimeout: '10s' }, http: { idleTimeout: '20s' } } })],
    outboundOnly,
  ),
  vector(
    'v04c-http-options',
    'TestApplyConnectionPool: idle timeout, max requests per connection, max connection duration',
    [
      dr('*.example.org', {
        connectionPool: { http: { idleTimeout: '22s', maxRequestsPerConnection: 22 }, tcp: { maxConnectionDuration: '500s' } },
      }),
    ],
    outboundOnly,
  ),
  vector(
    'v05a-retry-budget-default',
    'TestApplyConnectionPool: retryBudget {} gets 20% / 3',
    [dr('*.example.org', { retryBudget: {} })],
    outboundOnly,
  ),
  vector(
    'v05b-retry-budget-set',
    'TestApplyConnectionPool: retryBudget values pass through',
    [dr('*.example.org', { retryBudget: { percent: 0.3, minRetryConcurrency: 4 } })],
    outboundOnly,
  ),
  vector(
    'v06a-outlier-empty',
    'TestApplyOutlierDetection: {} only disables success rate',
    [dr('*.example.org', { outlierDetection: {} })],
    outboundOnly,
  ),
  vector(
    'v06b-outlier-5xx-and-gateway',
    'TestApplyOutlierDetection: consecutive5xxErrors 4, consecutiveGatewayErrors 3',
    [dr('*.example.org', { outlierDetection: { consecutive5xxErrors: 4, consecutiveGatewayErrors: 3 } })],
    outboundOnly,
  ),
  vector(
    'v06c-outlier-gateway-zero',
    'TestApplyOutlierDetection: consecutiveGatewayErrors 0 turns enforcement off',
    [dr('*.example.org', { outlierDetection: { consecutiveGatewayErrors: 0 } })],
    outboundOnly,
  ),
  vector(
    'v06d-outlier-local-origin',
    'TestApplyOutlierDetection: split local-origin errors',
    [dr('*.example.org', { outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 10 } })],
    outboundOnly,
  ),
  vector(
    'v06e-consecutive-errors-istio-1.6',
    'Istio 1.1-1.6: consecutiveErrors means gateway failures only',
    [dr('*.example.org', { outlierDetection: { consecutiveErrors: 3 } })],
    outboundOnly,
    { istioVersion: '1.6' },
  ),
  vector(
    'v06f-consecutive-errors-istio-1.29',
    'Istio 1.7+: consecutiveErrors is ignored, with a warning',
    [dr('*.example.org', { outlierDetection: { consecutiveErrors: 3 } })],
    outboundOnly,
  ),
  vector(
    'v07a-panic-threshold-default',
    'TestDisablePanicThresholdAsDefault: outlier detection sets the panic threshold to 0',
    [dr('*.example.org', { outlierDetection: { minHealthPercent: 0 } })],
    outboundOnly,
  ),
  vector(
    'v07c-panic-threshold-istio-1.31',
    'Istio 1.31+: unhealthy endpoints are sent by default, so panic threshold 0 without outlier detection (found by spillover mesh diff)',
    [dr('*.example.org')],
    outboundOnly,
    { istioVersion: '1.31' },
  ),
  vector(
    'v07b-panic-threshold-min-health',
    'TestSidecarLocalityLB: minHealthPercent 10',
    [dr('*.example.org', { outlierDetection: { minHealthPercent: 10 } })],
    outboundOnly,
  ),
  vector(
    'v08a-locality-failover',
    'TestSidecarLocalityLB: priorities relative to region1/zone1/subzone1, compacted 0,1,3 -> 0,1,2; an endpoint without locality is last',
    [
      dr('*.example.org', { outlierDetection: { minHealthPercent: 10 } }),
      se('foo', 'foo.example.org', 8080, [
        { address: '127.0.3.1', locality: 'region1/zone1/subzone2' },
        { address: '127.0.3.2', locality: 'region2/zone1/subzone1' },
        { address: '127.0.3.3' },
      ]),
    ],
    outboundOnly,
    { clientLocality: 'region1/zone1/subzone1', aLocality: 'region1/zone1/subzone1' },
  ),
  vector(
    'v08b-locality-no-outlier-detection',
    'Failover needs outlier detection: without it every locality is priority 0',
    [
      dr('*.example.org'),
      se('foo', 'foo.example.org', 8080, [
        { address: '127.0.3.1', locality: 'region1/zone1/subzone2' },
        { address: '127.0.3.2', locality: 'region2/zone1/subzone1' },
      ]),
    ],
    outboundOnly,
    { clientLocality: 'region1/zone1/subzone1', aLocality: 'region1/zone1/subzone1' },
  ),
  vector(
    'v09-istio-mutual',
    'cluster_tls_test "tls mode ISTIO_MUTUAL": explicit SNI and SAN',
    [
      dr('*.example.org', {
        tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: ['spiffe://cluster.local/ns/example/sa/foo'], sni: 'some-sni.com' },
      }),
    ],
    outboundOnly,
  ),
  vector(
    'v10a-h2-upgrade',
    'TestShouldH2Upgrade: DR UPGRADE on an HTTP port upgrades (h2 ALPN too)',
    [dr('*.example.org', { tls: { mode: 'ISTIO_MUTUAL' }, connectionPool: { http: { h2UpgradePolicy: 'UPGRADE' } } })],
    outboundOnly,
  ),
  // Istio's validation refuses useClientProtocol with a DR-level UPGRADE (TestShouldH2Upgrade sets UPGRADE in the mesh config).
  vector(
    'v10b-h2-client-protocol',
    'TestShouldH2Upgrade: useClientProtocol blocks the upgrade',
    [dr('*.example.org', { connectionPool: { http: { useClientProtocol: true } } })],
    outboundOnly,
  ),
  {
    name: 'virtual-service-retries',
    about: 'VirtualService retries replace the default: integer retryOn codes, retryRemoteLocalities, timeout',
    plan: (o = {}) =>
      basePlan(
        [
          ...peakLoadResources(),
          {
            apiVersion: 'networking.istio.io/v1',
            kind: 'VirtualService',
            metadata: { name: 'a', namespace: 'istio' },
            spec: {
              hosts: ['a.istio.svc.cluster.local'],
              http: [
                {
                  route: [{ destination: { host: 'a.istio.svc.cluster.local' } }],
                  timeout: '3s',
                  retries: { attempts: 3, perTryTimeout: '500ms', retryOn: '5xx,503,reset', retryRemoteLocalities: true },
                },
              ],
            },
          },
        ],
        o,
      ),
    select: (m, p) => ({ route: route(m, p), warnings: m.warnings }),
  },
  { name: 'peak-load', about: 'experiments/peak-load.yaml on Istio 1.29 (current)', plan: (o = {}) => basePlan(peakLoadResources(), o) },
  {
    name: 'peak-load-istio-1.6',
    about:
      'peak-load on Istio 1.6: ROUND_ROBIN, 503 and resource-exhausted... retried, old max_requests_per_connection, sni_cluster gateway',
    plan: (o = {}) => basePlan(peakLoadResources(), { ...o, istioVersion: '1.6' }),
  },
  {
    name: 'peak-load-auto-mtls',
    about:
      "peak-load with the DR tls left out (as the API server leaves the slide's misplaced spec.tls): auto-mTLS dials the gateway in plaintext",
    plan: (o = {}) => basePlan(withoutTls(), o),
    select: (m, p) => ({ outbound: (m.bootstraps[p.client.name] as any).static_resources.clusters[0], warnings: m.warnings }),
  },
  {
    name: 'peak-load-wan-delay',
    about: "peak-load with a 25 ms WAN delay: a fixed-delay fault filter on cluster-2's sidecar",
    plan: (o = {}) => basePlan(peakLoadResources(), { ...o, wanDelayMs: 25 }),
    select: (m) => ({ 'b-sidecar': m.bootstraps['b-sidecar'], warnings: m.warnings }),
  },
];
