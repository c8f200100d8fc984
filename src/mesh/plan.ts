/**
 * The input of the Istio -> Envoy translation: where every proxy and workload of the two "clusters"
 * lives, which Istio resources apply, and which Istio release's semantics to follow.
 *
 * A backend builds a MeshPlan (the local backend from loopback addresses and a per-run CA); the
 * translation turns it into one Envoy bootstrap per proxy, the way istiod would configure them.
 */

/** `region/zone[/subzone]`, as Istio writes localities. */
export type Locality = string;

export interface Address {
  ip: string;
  port: number;
}

/** Certificate files of one SPIFFE identity, issued by the run's CA (file-based stand-in for SDS). */
export interface IdentityFiles {
  /** e.g. spiffe://cluster.local/ns/istio/sa/a */
  spiffe: string;
  certChain: string;
  privateKey: string;
  /** The CA bundle this identity trusts (istiod's ROOTCA). */
  rootCert: string;
}

/** Files an Envoy writes, so that telemetry capture finds them. */
export interface EnvoyFiles {
  accessLog: string;
  /** Bootstrap cluster_manager.outlier_detection.event_log_path (only meaningful on proxies with OD). */
  outlierLog: string;
}

export interface ProxyCommon {
  /** Envoy node id and the name used in stats, files and the manifest (client, a-sidecar, gateway, b-sidecar). */
  name: string;
  cluster: string;
  locality: Locality;
  network: string;
  admin: Address;
  files: EnvoyFiles;
  identity: IdentityFiles;
}

/** A service workload (the app process) and its sidecar. */
export interface WorkloadPlan {
  /** Experiment-level name: "A" or "B". */
  service: string;
  /** Kubernetes-style host the workload is registered as, e.g. a.istio.svc.cluster.local. */
  host: string;
  namespace: string;
  serviceAccount: string;
  /** Service port (the port clients dial, e.g. 80) and its name (must match the SE's port name). */
  port: number;
  portName: string;
  /** Where the app itself listens (plain HTTP, loopback). */
  app: Address;
  /** The sidecar's inbound listener (Istio: 15006); mTLS is terminated here. */
  sidecar: ProxyCommon & { inbound: Address };
  /** Pod labels (app, version, topology labels...): subsets and failoverPriority select on them. */
  labels?: Record<string, string>;
  /** Instance name the app reports, e.g. a-0 (one per replica). */
  instance?: string;
  /**
   * Outside the endpoints (readiness failing, or a standby pod of a later scale-up), as the control
   * plane pushes it: its Service still exists for every proxy, as in Kubernetes, with no endpoint here.
   */
  notReady?: boolean;
}

/** A client's sidecar: where one caller's load enters the mesh (outbound listener). */
export type ClientProxyPlan = ProxyCommon & { outbound: Address };

/** An east-west gateway of one network (AUTO_PASSTHROUGH on 15443). */
export type GatewayPlan = ProxyCommon & { listener: Address };

/** An ingress gateway (istio-ingressgateway): a Router proxy whose listeners come from the Gateways selecting its labels. */
export type IngressGatewayPlan = ProxyCommon & { ip: string; labels: Record<string, string> };

export interface MeshPlan {
  /** Istio release whose translation semantics apply, e.g. "1.29" or "1.6". */
  istioVersion: string;
  /** The client's sidecar: where the load enters the mesh in cluster-1 (outbound listener). */
  client: ClientProxyPlan;
  /**
   * More callers, each with its own sidecar (own address, locality, namespace through its identity):
   * istiod configures each for its own cluster and locality. Absent: `client` is the only one.
   */
  clients?: ClientProxyPlan[];
  /** Workloads by experiment-level service name (A in cluster-1, B in cluster-2). */
  workloads: WorkloadPlan[];
  /** cluster-2's east-west gateway (AUTO_PASSTHROUGH on 15443); the first of `gateways` when those are given. */
  gateway?: GatewayPlan;
  /** Every east-west gateway, one per network (absent: just `gateway`). */
  gateways?: GatewayPlan[];
  /** Ingress gateways (absent: none); their listeners come from the `Gateway` resources that select them. */
  ingressGateways?: IngressGatewayPlan[];
  /**
   * multi-primary: every istiod reads every cluster's endpoints (remote secrets), and endpoints on
   * another network go through that network's gateway. Absent or federated: each cluster sees its own.
   */
  discovery?: 'federated' | 'multi-primary';
  /**
   * The Istio resources of the experiment (ServiceEntry, DestinationRule, VirtualService...), as plain
   * objects, with backend placeholders (the gateway address) already filled in.
   */
  resources: Array<Record<string, unknown>>;
  /** Optional one-way delay added between clusters (local backend: applied by the gateway path). */
  wanDelayMs: number;
  /** Envoy runtime knobs that are not Istio's business. */
  envoy: { fileFlushIntervalMs: number; concurrency: number };
  /**
   * Where `resources` came from, so that messages can name it: e.g.
   * { file: 'experiments/peak-load.yaml', basePath: 'resources' }. Default: { file: 'experiment', basePath: 'resources' }.
   */
  source?: { file: string; basePath: string };
}

/** What the translation produces: one bootstrap per proxy, plus caveats for the user. */
export interface MeshConfig {
  /** Proxy name -> Envoy bootstrap (plain JSON-able object; written as YAML with sorted keys). */
  bootstraps: Record<string, Record<string, unknown>>;
  /** e.g. "DestinationRule a: outlierDetection.consecutiveErrors has no effect in Istio 1.29 (ignored since 1.7)". */
  warnings: string[];
  /** The client's outbound cluster name for the federated host, e.g. outbound|80||a.istio.svc.cluster.local. */
  clientCluster: string;
  /** Upstream endpoints of the client's cluster: "ip:port" -> service (A/B), locality, priority. */
  endpoints: Record<string, { service: string; locality: Locality; priority: number }>;
  /** Host (authority) the load must send to the client's outbound listener, e.g. a.istio.svc.cluster.local. */
  authority: string;
  /** Proxy name -> Envoy command-line arguments besides `-c <bootstrap>` (concurrency, flush interval...). */
  envoyArgs: Record<string, string[]>;
  /**
   * Every outbound cluster of the client (all hosts, all subsets) and its endpoints, when there is more
   * than the one federated host (absent for the study's topology, whose one cluster is `endpoints`).
   */
  clientClusters?: Record<string, Record<string, { service: string; locality: string; priority: number; weight?: number }>>;
  /** Every further client (plan.clients) by proxy name: the host its load is sent to and its outbound cluster for it. */
  otherClients?: Record<string, { authority: string; clientCluster: string }>;
}

/** All gateways of a plan, whichever way it lists them. */
export const gatewaysOf = (plan: MeshPlan): GatewayPlan[] => plan.gateways ?? (plan.gateway ? [plan.gateway] : []);

/** Every client sidecar of a plan, the first (`client`) first. */
export const clientsOfPlan = (plan: MeshPlan): ClientProxyPlan[] => [plan.client, ...(plan.clients ?? [])];
/** The plan's ingress gateways (none when absent). */
export const ingressGatewaysOf = (plan: MeshPlan): IngressGatewayPlan[] => plan.ingressGateways ?? [];
