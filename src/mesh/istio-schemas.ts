/**
 * Structural schemas of the Istio resources an experiment may carry, transcribed from istio/api's
 * networking/v1alpha3 and security/v1beta1 protos at b8f8791d9 (2026-07; field names as the generated CRDs spell them,
 * camelCase). Objects are strict so that misplaced fields (the slide's `spec.tls`) are reported
 * instead of being silently pruned the way the Kubernetes API server would.
 */
import { z } from 'zod';
import { ISTIO_DURATION_RE } from '../util/duration.ts';
import { routeActionFields } from './istio-route-schemas.ts';

const duration = z.string().regex(ISTIO_DURATION_RE, { message: 'not an Istio duration' });
const uint32 = z.number().int().min(0).max(4294967295);
/** google.protobuf.UInt32Value: a number in YAML (protobuf JSON), or {value} as some tools write it. */
const uint32Wrapper = z.union([uint32, z.strictObject({ value: uint32 })]);
// Istio's validation rejects negative counts (validateConnectionPool, validateOutlierDetection, retries).
const int32 = z.number().int().min(0).max(2147483647);
const percent = z.number().int().min(0).max(100);
const labels = z.record(z.string(), z.string());

const tcpKeepalive = z.strictObject({ probes: uint32.optional(), time: duration.optional(), interval: duration.optional() });

export const connectionPool = z.strictObject({
  tcp: z
    .strictObject({
      maxConnections: int32.optional(),
      connectTimeout: duration.optional(),
      tcpKeepalive: tcpKeepalive.optional(),
      maxConnectionDuration: duration.optional(),
      idleTimeout: duration.optional(),
    })
    .optional(),
  http: z
    .strictObject({
      http1MaxPendingRequests: int32.optional(),
      http2MaxRequests: int32.optional(),
      maxRequestsPerConnection: int32.optional(),
      maxRetries: int32.optional(),
      idleTimeout: duration.optional(),
      h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
      useClientProtocol: z.boolean().optional(),
      maxConcurrentStreams: int32.optional(),
      http2KeepAlive: z.strictObject({ interval: duration.optional(), timeout: duration.optional() }).optional(),
    })
    .optional(),
});

const outlierDetection = z.strictObject({
  consecutiveErrors: int32.optional(),
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: uint32Wrapper.optional(),
  consecutiveGatewayErrors: uint32Wrapper.optional(),
  consecutive5xxErrors: uint32Wrapper.optional(),
  interval: duration.optional(),
  baseEjectionTime: duration.optional(),
  maxEjectionPercent: percent.optional(),
  minHealthPercent: percent.optional(),
  outlierDetectionHttpErrorCodes: z.array(uint32).optional(),
});

const TOPOLOGY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];

/** istiod's ValidateLocalityLbSetting (its errors; the missing-outlier-detection warning is the translation's). */
function localityLbRules(
  lb: {
    distribute?: Array<{ from?: string; to?: Record<string, number> }>;
    failover?: Array<{ from?: string; to?: string }>;
    failoverPriority?: string[];
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (message: string, path: Array<string | number>) => ctx.addIssue({ code: 'custom', message, path });
  if (lb.distribute?.length && lb.failover?.length)
    return issue("can not simultaneously specify 'distribute' and 'failover'", ['distribute']);
  if (lb.failover?.length) {
    const topo = (lb.failoverPriority ?? []).findIndex((l) => TOPOLOGY_LABELS.includes(l));
    if (topo >= 0)
      return issue(
        `can not simultaneously set 'failover' and topology label '${lb.failoverPriority![topo]}' in 'failoverPriority' (the failover rule already orders by region)`,
        ['failoverPriority', topo],
      );
  }
  (lb.distribute ?? []).forEach((d, i) => {
    const weights = Object.values(d.to ?? {});
    if (weights.some((w) => w <= 0 || w > 100)) issue('locality weight must be in range [1, 100]', ['distribute', i, 'to']);
    else if (weights.reduce((a, b) => a + b, 0) !== 100)
      issue(`total locality weight ${weights.reduce((a, b) => a + b, 0)} != 100`, ['distribute', i, 'to']);
  });
  (lb.failover ?? []).forEach((f, i) => {
    if (f.from === f.to) issue('locality lb failover settings must specify different regions', ['failover', i]);
    if (`${f.from ?? ''}${f.to ?? ''}`.includes('/')) issue('locality lb failover only specify region', ['failover', i]);
    if (`${f.from ?? ''}${f.to ?? ''}`.includes('*')) issue("locality lb failover region should not contain '*' wildcard", ['failover', i]);
  });
}

const loadBalancer = z.strictObject({
  simple: z.enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']).optional(),
  consistentHash: z.record(z.string(), z.unknown()).optional(),
  localityLbSetting: z
    .strictObject({
      enabled: z.boolean().optional(),
      distribute: z.array(z.strictObject({ from: z.string().optional(), to: z.record(z.string(), uint32).optional() })).optional(),
      failover: z.array(z.strictObject({ from: z.string().optional(), to: z.string().optional() })).optional(),
      failoverPriority: z.array(z.string()).optional(),
    })
    .superRefine(localityLbRules)
    .optional(),
  zoneAwareLbSetting: z.record(z.string(), z.unknown()).optional(),
  warmupDurationSecs: duration.optional(),
  warmup: z.strictObject({ duration, minimumPercent: z.number().optional(), aggression: z.number().optional() }).optional(),
});

const clientTls = z.strictObject({
  mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});

const portSelector = z.strictObject({ number: uint32 });

const portTrafficPolicy = z.strictObject({
  port: portSelector.optional(),
  loadBalancer: loadBalancer.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTls.optional(),
});

const trafficPolicy = z.strictObject({
  loadBalancer: loadBalancer.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTls.optional(),
  portLevelSettings: z.array(portTrafficPolicy).optional(),
  tunnel: z.record(z.string(), z.unknown()).optional(),
  proxyProtocol: z.record(z.string(), z.unknown()).optional(),
  retryBudget: z
    .strictObject({
      percent: z.number().min(0).max(100).optional(),
      minRetryConcurrency: uint32.optional(),
      budgetInterval: duration.optional(),
    })
    .optional(),
});

const workloadSelector = z.strictObject({ matchLabels: labels.optional() });
/** networking.v1alpha3.WorkloadSelector (Sidecar, ServiceEntry): `labels`, where istio.type.v1beta1's has `matchLabels`. */
const networkingWorkloadSelector = z.strictObject({ labels: labels.optional() });

export const destinationRuleSpec = z.strictObject({
  host: z.string().min(1),
  trafficPolicy: trafficPolicy.optional(),
  subsets: z.array(z.strictObject({ name: z.string(), labels: labels.optional(), trafficPolicy: trafficPolicy.optional() })).optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: workloadSelector.optional(),
});

export const serviceEntrySpec = z.strictObject({
  hosts: z.array(z.string().min(1)).min(1),
  addresses: z.array(z.string()).optional(),
  ports: z
    .array(z.strictObject({ number: uint32, protocol: z.string().optional(), name: z.string(), targetPort: uint32.optional() }))
    .optional(),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']).optional(),
  endpoints: z
    .array(
      z.strictObject({
        address: z.string().optional(),
        ports: z.record(z.string(), uint32).optional(),
        labels: labels.optional(),
        network: z.string().optional(),
        locality: z.string().optional(),
        weight: uint32.optional(),
        serviceAccount: z.string().optional(),
      }),
    )
    .optional(),
  workloadSelector: networkingWorkloadSelector.optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});

const httpRetry = z.strictObject({
  attempts: int32.optional(),
  perTryTimeout: duration.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: duration.optional(),
});

const loose = z.unknown().optional();

export const virtualServiceSpec = z.strictObject({
  hosts: z.array(z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  http: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        match: loose,
        route: loose,
        delegate: loose,
        timeout: duration.optional(),
        retries: httpRetry.optional(),
        fault: loose,
        ...routeActionFields,
      }),
    )
    .optional(),
  tls: z.array(z.unknown()).optional(),
  tcp: z.array(z.unknown()).optional(),
  exportTo: z.array(z.string()).optional(),
});

const mtlsMode = z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);

export const peerAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  mtls: z.strictObject({ mode: mtlsMode.optional() }).optional(),
  portLevelMtls: z.record(z.string(), z.strictObject({ mode: mtlsMode.optional() })).optional(),
});

export const sidecarSpec = z.strictObject({
  workloadSelector: networkingWorkloadSelector.optional(),
  ingress: z.array(z.unknown()).optional(),
  egress: z
    .array(
      z.strictObject({
        port: z
          .strictObject({
            number: z.number().int().min(0).max(65535).optional(),
            protocol: z.string().optional(),
            name: z.string().optional(),
          })
          .optional(),
        bind: z.string().optional(),
        captureMode: z.enum(['DEFAULT', 'IPTABLES', 'NONE']).optional(),
        hosts: z.array(z.string()),
      }),
    )
    .optional(),
  inboundConnectionPool: connectionPool.optional(),
  outboundTrafficPolicy: z
    .strictObject({ mode: z.enum(['REGISTRY_ONLY', 'ALLOW_ANY']).optional(), egressProxy: z.unknown().optional() })
    .optional(),
});

/** networking.istio.io Gateway (istio/api networking/v1alpha3/gateway.proto). */
export const gatewaySpec = z.strictObject({
  selector: labels.optional(),
  servers: z
    .array(
      z.strictObject({
        port: z.strictObject({
          number: z.number().int().min(1).max(65535),
          protocol: z.string(),
          name: z.string().optional(),
          targetPort: z.number().int().optional(),
        }),
        bind: z.string().optional(),
        hosts: z.array(z.string()).min(1),
        tls: z
          .looseObject({
            httpsRedirect: z.boolean().optional(),
            mode: z.enum(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']).optional(),
          })
          .optional(),
        defaultEndpoint: z.string().optional(),
        name: z.string().optional(),
      }),
    )
    .optional(),
});

export const metadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: labels.optional(),
  annotations: labels.optional(),
});

const NETWORKING = ['networking.istio.io/v1alpha3', 'networking.istio.io/v1beta1', 'networking.istio.io/v1'];
const SECURITY = ['security.istio.io/v1beta1', 'security.istio.io/v1'];

// Without a prototype: a resource whose kind is "__proto__" or "constructor" names no entry here.
export const KINDS: Record<string, { apiVersions: string[]; spec: z.ZodType }> = Object.assign(Object.create(null), {
  ServiceEntry: { apiVersions: NETWORKING, spec: serviceEntrySpec },
  DestinationRule: { apiVersions: NETWORKING, spec: destinationRuleSpec },
  VirtualService: { apiVersions: NETWORKING, spec: virtualServiceSpec },
  Sidecar: { apiVersions: NETWORKING, spec: sidecarSpec },
  Gateway: { apiVersions: NETWORKING, spec: gatewaySpec },
  PeerAuthentication: { apiVersions: SECURITY, spec: peerAuthenticationSpec },
});

export function resourceSchema(kind: string) {
  const k = KINDS[kind];
  return z.strictObject({
    apiVersion: z.enum(k.apiVersions as [string, ...string[]]),
    kind: z.literal(kind),
    metadata,
    spec: k.spec,
  });
}
