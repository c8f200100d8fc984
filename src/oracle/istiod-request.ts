/**
 * What istiod's config generator (tools/istiod-config) is fed for one cluster of a MeshPlan: that
 * cluster's Istio resources, the Kubernetes Services and endpoints the topology implies, the
 * east-west Gateway the multi-network install applies, and every proxy's identity. Pure: the runner
 * spawns the helper (src/runner/istiod-config.ts).
 */
import { stringify } from 'yaml';
import { clientsOfPlan, gatewaysOf, ingressGatewaysOf, type MeshPlan, type ProxyCommon, type WorkloadPlan } from '../mesh/plan.ts';
import { Resources, type Json } from '../mesh/resources.ts';
import { localityLabels } from '../mesh/locality.ts';

export interface IstiodService {
  hostname: string;
  name: string;
  namespace: string;
  ports: Array<{ name: string; port: number; protocol?: string }>;
  serviceAccounts: string[];
  labels?: Record<string, string>;
  endpoints: Array<{
    /** The endpoint's cluster when istiod reads another cluster too (multi-primary); absent: the request's. */
    cluster?: string;
    address: string;
    port: number;
    portName: string;
    locality: string;
    network: string;
    serviceAccount: string;
    labels: Record<string, string>;
    workloadName: string;
  }>;
}

export interface IstiodProxy {
  name: string;
  type: 'sidecar' | 'router';
  namespace: string;
  ips: string[];
  labels: Record<string, string>;
  locality: string;
  network: string;
  workloadName?: string;
  /** ISTIO_META_REQUESTED_NETWORK_VIEW, as the multi-network east-west gateway is installed with. */
  requestedNetworkView?: string[];
}

export interface IstiodRequest {
  clusterId: string;
  /** Multi-document YAML of the Istio resources applied in this cluster. */
  config: string;
  /** MeshConfig YAML over Istio's defaults (empty: the defaults). */
  meshConfig: string;
  services: IstiodService[];
  proxies: IstiodProxy[];
  /** The east-west gateway of each network (the general topology), so endpoints on other networks go through it. */
  gateways?: Array<{ network: string; cluster: string; address: string; port: number }>;
  ours?: Record<string, IstiodXds>;
}

/** One proxy's xDS as protojson (proto field names, Any with @type). */
export interface IstiodXds {
  clusters: Json[];
  listeners: Json[];
  routes: Json[];
  endpoints: Json[];
}

export interface IstiodResponse {
  /** istio.io/istio module version the generator was built from. */
  istio: string;
  proxies: Record<string, IstiodXds>;
  /** The request's `ours`, re-encoded through Envoy's protos. */
  ours?: Record<string, IstiodXds>;
}

/**
 * What `istioctl install` + `samples/multicluster/expose-services.yaml` apply in a cluster with an
 * east-west gateway: AUTO_PASSTHROUGH for every `*.local` host on 15443. src/mesh models the same
 * gateway implicitly.
 */
export function eastWestGateway(port: number): Json {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: 'cross-network-gateway', namespace: 'istio-system' },
    spec: {
      selector: { istio: 'eastwestgateway' },
      servers: [{ port: { number: port, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }],
    },
  };
}

export const GATEWAY_LABELS = (network: string) => ({
  istio: 'eastwestgateway',
  app: 'istio-eastwestgateway',
  'topology.istio.io/network': network,
});
const namespaceOfSpiffe = (spiffe: string) => /\/ns\/([^/]+)\//.exec(spiffe)?.[1] ?? 'default';

/** Every cluster that has a proxy, in a stable order (the client's first). */
export function clustersOf(plan: MeshPlan): string[] {
  const all = [
    plan.client.cluster,
    ...plan.workloads.map((w) => w.sidecar.cluster),
    ...gatewaysOf(plan).map((g) => g.cluster),
    ...clientsOfPlan(plan).map((c) => c.cluster),
    ...ingressGatewaysOf(plan).map((g) => g.cluster),
  ];
  return [...new Set(all)];
}

export interface RequestOptions {
  /**
   * Which port a Kubernetes endpoint names: 'app' as Kubernetes would (the container port; iptables
   * then sends it to the sidecar), or 'inbound' (the sidecar's own listener, as on loopback with no
   * iptables; used when Envoy really runs istiod's config).
   */
  endpointPort?: 'app' | 'inbound';
}

export function istiodRequests(plan: MeshPlan, o: RequestOptions = {}): IstiodRequest[] {
  return clustersOf(plan).map((c) => istiodRequest(plan, c, o));
}

export function istiodRequest(plan: MeshPlan, cluster: string, o: RequestOptions = {}): IstiodRequest {
  const source = plan.source ?? { file: 'experiment', basePath: 'resources' };
  const mine = new Resources(plan.resources, source).inCluster(cluster, plan.client.cluster).all;
  const docs = mine.map((r) => placed(plan.resources[r.index] as Json, plan));
  const gateways = gatewaysOf(plan).filter((g) => g.cluster === cluster);
  // The experiment's own Gateways (ingress) do not replace the multi-network install's east-west one.
  const ownEastWest = docs.some(
    (d) => d.kind === 'Gateway' && (d.spec?.servers ?? []).some((s: Json) => s?.tls?.mode === 'AUTO_PASSTHROUGH'),
  );
  if (gateways.length && !ownEastWest) docs.push(eastWestGateway(gateways[0].listener.port));

  const local = plan.workloads.filter((w) => w.sidecar.cluster === cluster);
  // Multi-primary: this cluster's istiod reads every cluster's Services and endpoints (remote secrets).
  const visible = plan.discovery === 'multi-primary' ? plan.workloads : local;
  const proxies: IstiodProxy[] = [];
  // istiod augments a proxy's labels with its topology (AugmentLabels); the general topology's pods carry them already.
  // Every client sidecar of this cluster: istiod configures each for its own locality and namespace.
  for (const c of clientsOfPlan(plan).filter((x) => x.cluster === cluster)) {
    const clientLabels = plan.gateways ? { app: 'client', ...topologyLabels(c) } : undefined;
    proxies.push(sidecarProxy(c, c.outbound.ip, 'client', clientLabels));
  }
  for (const w of local) proxies.push(sidecarProxy(w.sidecar, w.sidecar.inbound.ip, w.service.toLowerCase(), w.labels));
  for (const g of gateways) {
    proxies.push({
      name: g.name,
      type: 'router',
      namespace: 'istio-system',
      ips: [g.listener.ip],
      labels: GATEWAY_LABELS(g.network),
      locality: g.locality,
      network: g.network,
      workloadName: 'istio-eastwestgateway',
      ...(plan.gateways ? { requestedNetworkView: [g.network] } : {}),
    });
  }
  // An ingress gateway is a Router proxy like istio-ingressgateway, with its pod labels (Gateway selectors match them).
  for (const g of ingressGatewaysOf(plan).filter((x) => x.cluster === cluster)) {
    proxies.push({
      name: g.name,
      type: 'router',
      namespace: 'istio-system',
      ips: [g.ip],
      labels: { ...g.labels, ...topologyLabels(g) },
      locality: g.locality,
      network: g.network,
      workloadName: 'istio-ingressgateway',
    });
  }
  return {
    clusterId: cluster,
    config: docs.map((d) => stringify(d)).join('---\n'),
    meshConfig: '',
    services: kubeServices(visible, cluster, o),
    proxies,
    ...(plan.gateways
      ? { gateways: plan.gateways.map((g) => ({ network: g.network, cluster: g.cluster, address: g.listener.ip, port: g.listener.port })) }
      : {}),
  };
}

const topologyLabels = (p: ProxyCommon) => ({
  ...localityLabels(p.locality),
  'topology.istio.io/cluster': p.cluster,
  'topology.istio.io/network': p.network,
});

function sidecarProxy(p: ProxyCommon, ip: string, app: string, labels?: Record<string, string>): IstiodProxy {
  return {
    name: p.name,
    type: 'sidecar',
    namespace: namespaceOfSpiffe(p.identity.spiffe),
    ips: [ip],
    labels: labels ?? { app },
    locality: p.locality,
    network: p.network,
    workloadName: app,
  };
}

/** The Kubernetes Services of one cluster: one per host, one endpoint per workload serving it. */
function kubeServices(local: WorkloadPlan[], cluster: string, o: RequestOptions): IstiodService[] {
  const byHost = new Map<string, IstiodService>();
  for (const w of local) {
    const s = byHost.get(w.host) ?? {
      hostname: w.host,
      name: w.host.split('.')[0],
      namespace: w.namespace,
      ports: [{ name: w.portName, port: w.port }],
      serviceAccounts: [],
      endpoints: [],
    };
    byHost.set(w.host, s);
    if (!s.serviceAccounts.includes(w.sidecar.identity.spiffe)) s.serviceAccounts.push(w.sidecar.identity.spiffe);
    const app = w.service.toLowerCase();
    s.endpoints.push({
      ...(w.sidecar.cluster !== cluster ? { cluster: w.sidecar.cluster } : {}),
      address: w.app.ip,
      port: o.endpointPort === 'inbound' ? w.sidecar.inbound.port : w.app.port,
      portName: w.portName,
      locality: w.sidecar.locality,
      network: w.sidecar.network,
      serviceAccount: w.sidecar.identity.spiffe,
      // The general topology's pods carry their own labels (app, version, topology); the study's the short set.
      labels: { ...(w.labels ?? { app }), 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/network': w.sidecar.network },
      workloadName: w.instance ?? app,
    });
  }
  return [...byHost.values()];
}

/**
 * A resource as `kubectl apply` would place it. src/mesh reads resources without a namespace as
 * applying wherever they are needed: a ServiceEntry lands in the namespace of the service it names
 * (src/mesh/endpoints.ts), anything else in the root namespace istio-system, where Istio applies it
 * mesh-wide -- the same reach.
 */
function placed(r: Json, plan: MeshPlan): Json {
  if (r?.metadata?.namespace) return fqdnHosts(r);
  let ns = 'istio-system';
  if (r.kind === 'ServiceEntry') {
    const host = (r.spec?.hosts ?? [])[0];
    ns = plan.workloads.find((w) => w.host === host)?.namespace ?? 'default';
  }
  return fqdnHosts({ ...r, metadata: { ...(r.metadata ?? {}), namespace: ns } });
}

/**
 * A short host ("httpbin") as istiod's Kubernetes config store resolves it (ResolveShortnameToFQDN
 * with the store's domain cluster.local): `<host>.<namespace>.svc.cluster.local`. The helper parses
 * the resources without that domain, so it gets the names already resolved, as src/mesh reads them.
 */
function fqdnHosts(r: Json): Json {
  const ns = r.metadata.namespace;
  const fq = (h: unknown) => (typeof h === 'string' && h && h !== '*' && !h.includes('.') ? `${h}.${ns}.svc.cluster.local` : h);
  if (r.kind === 'DestinationRule' && r.spec) return { ...r, spec: { ...r.spec, host: fq(r.spec.host) } };
  if (r.kind !== 'VirtualService' || !r.spec) return r;
  const dest = (d: Json) => (d?.destination ? { ...d, destination: { ...d.destination, host: fq(d.destination.host) } } : d);
  // resolveVirtualServiceShortnames resolves route destinations, mirror and mirrors[].destination.
  const http = (r.spec.http ?? []).map((h: Json) => ({
    ...h,
    ...(h.route ? { route: h.route.map(dest) } : {}),
    ...(h.mirror ? { mirror: { ...h.mirror, host: fq(h.mirror.host) } } : {}),
    ...(h.mirrors ? { mirrors: h.mirrors.map(dest) } : {}),
  }));
  return { ...r, spec: { ...r.spec, hosts: (r.spec.hosts ?? []).map(fq), ...(r.spec.http ? { http } : {}) } };
}
