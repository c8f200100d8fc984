/**
 * The experiment spec: one source of truth for its shape, its defaults and its types.
 *
 * Defaults are applied here and nowhere else (zod `.default`), so the resolved experiment written to
 * every run directory is exactly what ran. Objects are strict: an unknown field is an error with a
 * did-you-mean, because a typo in a resilience setting silently changes the result.
 */
import { z } from 'zod';
import { isDuration } from '../util/duration.ts';

const duration = (what = 'a duration') =>
  z.string({ error: `expected ${what} such as "250ms", "10s" or "1m"` }).refine(isDuration, {
    error: `expected ${what} such as "250ms", "10s" or "1m"`,
  });

// A DNS-1123 label, as Kubernetes names are: the experiment's name also names its results directory.
const name = z.string().refine((s) => s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s), {
  error: 'expected a DNS-label name (RFC 1123): at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit',
});

const locality = z.string().regex(/^[^/\s]+(\/[^/\s]+){0,2}$/, { error: 'expected a locality "region/zone[/subzone]"' });

const cidr24 = z.string().refine(
  (s) =>
    /^127\.\d{1,3}\.\d{1,3}\.0\/24$/.test(s) &&
    s
      .split(/[./]/)
      .slice(1, 3)
      .every((o) => Number(o) <= 255),
  {
    error: 'expected a loopback /24 such as "127.0.1.0/24" (the local backend only uses 127.0.0.0/8)',
  },
);

/**
 * A node-like group of a cluster: its workloads get the group's locality, as pods scheduled on nodes
 * labelled topology.kubernetes.io/region|zone and topology.istio.io/subzone would.
 */
export const NodeSpec = z.strictObject({ locality });

export const ClusterSpec = z.strictObject({
  network: z.string().default('network1'),
  /** Locality of every workload in this cluster unless a service (or its node) says otherwise. */
  locality,
  /** Local backend: the loopback /24 this cluster's processes bind to. */
  addresses: cidr24.optional(),
  /** Node groups with localities of their own, so one cluster can span several zones. */
  nodes: z.record(name, NodeSpec).optional(),
  /**
   * An ingress gateway in this cluster (Istio's istio-ingressgateway): an Envoy of its own that Istio
   * `Gateway` resources select by its labels; VirtualServices bound to such a Gateway route its traffic.
   */
  ingressGateway: z
    .strictObject({
      labels: z.record(z.string(), z.string()).default({ istio: 'ingressgateway', app: 'istio-ingressgateway' }),
    })
    .optional(),
});

export const ServiceTimeSpec = z.discriminatedUnion('distribution', [
  z.strictObject({ distribution: z.literal('fixed'), value: duration() }),
  z.strictObject({ distribution: z.literal('exponential'), mean: duration() }),
  z.strictObject({ distribution: z.literal('lognormal'), median: duration(), p99: duration() }),
]);

export const CapacitySpec = z.strictObject({
  /** Requests served at once. */
  concurrency: z.number().int().min(1),
  /** Requests waiting for a slot; one more is refused with 503 at once. */
  queue: z.number().int().min(0).default(0),
  serviceTime: ServiceTimeSpec,
});

export const ServiceSpec = z.strictObject({
  cluster: name,
  /** The Kubernetes host the workload is registered as: <svc>.<namespace>.svc.cluster.local. */
  host: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+\.svc\.[a-z0-9.-]+$/, {
    error: 'expected a Kubernetes service host "<name>.<namespace>.svc.cluster.local"',
  }),
  port: z
    .strictObject({ number: z.number().int().min(1).max(65535), name: z.string().default('http') })
    .default({ number: 80, name: 'http' }),
  serviceAccount: z.string().default('default'),
  locality: locality.optional(),
  /** A node group of the service's cluster (topology.clusters.<c>.nodes): the pods' locality. */
  node: name.optional(),
  /** Pods of this deployment; each has its own loopback address, app process and sidecar. */
  replicas: z.number().int().min(1).max(64).default(1),
  /** The pods' `version` label, which DestinationRule subsets select on. */
  version: z
    .string()
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, { error: 'expected a label value such as "v1"' })
    .optional(),
  /** More pod labels (subsets and failoverPriority can select on them). */
  labels: z.record(z.string(), z.string()).optional(),
  capacity: CapacitySpec,
});

export const FaultSpec = z.discriminatedUnion('action', [
  z.strictObject({
    at: duration(),
    action: z.literal('kill'),
    target: z.string(),
    signal: z.enum(['SIGKILL', 'SIGTERM']).default('SIGKILL'),
  }),
  z.strictObject({
    at: duration(),
    action: z.literal('service-fault'),
    target: z.string(),
    mode: z.enum(['ok', 'error503', 'reset', 'stall']),
    duration: duration().optional(),
  }),
  z.strictObject({ at: duration(), action: z.literal('stall'), target: z.string(), duration: duration() }),
  /** Envoy's drain of the target's sidecar (POST /drain_listeners): it stops accepting connections. */
  z.strictObject({ at: duration(), action: z.literal('drain'), target: z.string() }),
  /** The app answers a share of requests with an HTTP error, per instance. */
  z.strictObject({
    at: duration(),
    action: z.literal('http-error'),
    target: z.string(),
    code: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).default(503),
    rate: z.number().min(0).max(1).default(1),
    duration: duration().optional(),
  }),
  /** The app adds latency to every request, per instance. */
  z.strictObject({ at: duration(), action: z.literal('latency'), target: z.string(), delay: duration(), duration: duration().optional() }),
  /**
   * The pod's readiness probe starts failing: after probe period x failure threshold (kubelet) plus
   * istiod's debounce the pod leaves every proxy's endpoints; after `duration` it passes again and
   * returns after period x success threshold plus debounce. Needs the harness's control plane (xDS).
   */
  z.strictObject({ at: duration(), action: z.literal('unready'), target: z.string(), duration: duration().optional() }),
  /**
   * `kubectl scale`: pods added are created at `at` (the local backend starts their processes then),
   * become ready at the first passing probe tick (success threshold times) and join the endpoints
   * after istiod's debounce; pods removed leave the endpoints after the debounce, drain, and are
   * terminated (runner/backends/local-scale.ts).
   */
  z.strictObject({ at: duration(), action: z.literal('scale'), target: z.string(), replicas: z.number().int().min(0).max(64) }),
  /** `kubectl apply` of an Istio resource at `at`: replaces the one of the same kind and name (or adds it); pushed after istiod's debounce. */
  z.strictObject({
    at: duration(),
    action: z.literal('apply'),
    target: z.string().default('istiod'),
    resource: z.record(z.string(), z.unknown()),
  }),
  /** The app cuts a share of connections (TCP reset), per instance. */
  z.strictObject({
    at: duration(),
    action: z.literal('reset'),
    target: z.string(),
    rate: z.number().min(0).max(1).default(1),
    duration: duration().optional(),
  }),
]);

/** Who sends the load and how: one client's scenario (`load:`, or `clients.<name>.load`). */
export const LoadSpec = z.strictObject({
  engine: z.enum(['embedded', 'k6']).default('embedded'),
  scenario: z.string().min(1),
  // k6's __ENV holds strings; numbers from YAML or --set (PEAK_RATE=400) are taken as their text.
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  requestTimeout: duration().default('10s'),
  /** Embedded driver: close the connection after an error response and reconnect, as fortio does (k6 keeps it). */
  reconnectOnError: z.boolean().optional(),
});

/** Where a client's sidecar runs: its cluster, and a node group or locality of its own. */
export const ClientPlacement = z.strictObject({
  cluster: name,
  locality: locality.optional(),
  node: name.optional(),
  /**
   * The client is outside the mesh (no sidecar on its path) and calls the ingress gateway of its
   * cluster (topology.clusters.<cluster>.ingressGateway) with `Host: <host>` on `port`.
   */
  ingress: z
    .strictObject({
      host: z.string().regex(/^[A-Za-z0-9*]([-A-Za-z0-9.]*[A-Za-z0-9])?$/, { error: 'expected a host name such as "httpbin.example.com"' }),
      port: z.number().int().min(1).max(65535).default(80),
    })
    .optional(),
});

/** One named caller of `clients:`: its placement, its sidecar's namespace, and its own scenario. */
export const ClientSpec = z.strictObject({
  cluster: name,
  locality: locality.optional(),
  node: name.optional(),
  /** The namespace of the client's pod (its sidecar's identity and short host names); default istio. */
  namespace: name.optional(),
  load: LoadSpec,
});

export const ExperimentShape = z.strictObject({
  apiVersion: z.literal('spillover.dev/v1alpha1', { error: 'expected apiVersion "spillover.dev/v1alpha1"' }),
  kind: z.literal('Experiment', { error: 'expected kind "Experiment"' }),
  metadata: z.strictObject({ name, description: z.string().optional() }),
  /** Seeds every random choice (service times); recorded in the manifest. */
  seed: z.number().int().min(0).default(1),
  istio: z
    .strictObject({
      /** Whose translation semantics apply: "1.29" (current), or an older release such as "1.6". */
      version: z
        .string()
        .regex(/^1\.\d+(\.\d+)?$/, { error: 'expected an Istio release such as "1.29" or "1.6.14"' })
        .default('1.29'),
    })
    .default({ version: '1.29' }),
  /**
   * Who makes the Envoy configuration on the local backend: src/mesh (builtin, default) or istiod's own
   * generator (tools/istiod-config, built on first use; current Istio only).
   */
  controlPlane: z.enum(['builtin', 'istiod']).optional(),
  topology: z.strictObject({
    clusters: z.record(name, ClusterSpec).refine((c) => Object.keys(c).length >= 1, {
      error: 'expected at least one cluster',
    }),
    /** One-way delay added between the clusters. */
    wanDelay: duration().default('0ms'),
    /**
     * How each cluster's istiod discovers endpoints. federated (absent): replicated control planes,
     * each istiod sees its own cluster only and other clusters are reached through ServiceEntries
     * (the study). multi-primary: every istiod reads every cluster (remote secrets); endpoints on
     * another network are reached through that network's east-west gateway.
     */
    discovery: z.enum(['federated', 'multi-primary']).optional(),
  }),
  /** Workloads by name; the load targets A's host. */
  services: z.record(
    z.string().regex(/^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$/, { error: 'expected a service name such as "A" or "helloworld-v1"' }),
    ServiceSpec,
  ),
  client: ClientPlacement.optional(),
  /**
   * The study's one east-west gateway. Without it every network with services gets one gateway, in
   * its first cluster, when the mesh spans more than one network.
   */
  gateway: z.strictObject({ cluster: name, port: z.number().int().min(1).max(65535).default(15443) }).optional(),
  /** Real Istio resources (ServiceEntry, DestinationRule, VirtualService, PeerAuthentication). */
  resources: z.array(z.record(z.string(), z.unknown())).default([]),
  load: LoadSpec.optional(),
  /**
   * Several callers at once, each with its own placement and scenario (src/experiment/clients.ts).
   * Instead of `client:` + `load:`, which mean one client; the first one here fills those two.
   */
  clients: z.record(name, ClientSpec).optional(),
  scrape: z.strictObject({ interval: duration().default('250ms'), clustersInterval: duration().optional() }).default({ interval: '250ms' }),
  envoy: z
    .strictObject({
      concurrency: z.number().int().min(1).default(1),
      fileFlushInterval: duration().default('100ms'),
      logLevel: z.enum(['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']).default('warning'),
    })
    .default({ concurrency: 1, fileFlushInterval: '100ms', logLevel: 'warning' }),
  faults: z.array(FaultSpec).default([]),
  /**
   * Timing of the harness's pushes (used when a fault needs endpoint or config pushes): Kubernetes'
   * readiness probe (periodSeconds 10, failureThreshold 3, successThreshold 1) and istiod's push
   * debounce (PILOT_DEBOUNCE_AFTER 100ms) by default.
   */
  pushTiming: z
    .strictObject({
      readinessPeriod: duration().optional(),
      failureThreshold: z.number().int().min(1).optional(),
      successThreshold: z.number().int().min(1).optional(),
      debounce: duration().optional(),
    })
    .optional(),
  /**
   * Expectations checked after the run, k6-threshold style: summary field -> conditions,
   * e.g. `events.firstEjectionS: ["< 60"]`, `redirectedFraction: [">= 0.2"]`.
   */
  expect: z.record(z.string(), z.array(z.string())).default({}),
});

/**
 * The spec as parsed: `client:` and `load:` always hold the first client (from `clients:` when that
 * form is used), so code that serves one client reads them as before. An experiment in today's form
 * parses to exactly what it did (the transform leaves it as it is).
 */
export const ExperimentSpec = ExperimentShape.transform((s) => {
  if (!s.clients || s.client || s.load) return s as typeof s & { client: ClientPlace; load: Load };
  const [first] = Object.values(s.clients);
  const place: ClientPlace = {
    cluster: first.cluster,
    ...(first.locality ? { locality: first.locality } : {}),
    ...(first.node ? { node: first.node } : {}),
  };
  return { ...s, client: place, load: first.load };
});

type ClientPlace = z.infer<typeof ClientPlacement>;
export type Load = z.infer<typeof LoadSpec>;
export type ClientDef = z.infer<typeof ClientSpec>;
export type Experiment = z.infer<typeof ExperimentSpec>;
export type ExperimentInput = z.input<typeof ExperimentSpec>;
export type ServiceDef = z.infer<typeof ServiceSpec>;
export type Capacity = z.infer<typeof CapacitySpec>;
export type Fault = z.infer<typeof FaultSpec>;
export type ClusterDef = z.infer<typeof ClusterSpec>;
