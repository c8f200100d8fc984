/**
 * The general topology model every backend renders: clusters (network, address range, localities
 * through node groups), every pod of every deployment (replicas expanded, each with its locality and
 * labels as istiod would see them), the client, and the east-west gateways.
 *
 * The study's two-cluster experiment (one service per cluster, one `gateway:`) is a shorthand of this
 * model: it normalises to the same clusters, pods and single gateway, with the names it always had
 * (a, a-sidecar, gateway), so existing experiments run exactly as before.
 */
import type { Experiment } from './schema.ts';
import { localityLabels } from '../mesh/locality.ts';
import { clientsOf } from './clients.ts';

export interface TopologyCluster {
  name: string;
  network: string;
  locality: string;
  /** Local backend: the loopback /24 (default 127.0.<position+1>.0/24). */
  addresses: string;
}

/** One pod: its app process and its sidecar. */
export interface TopologyPod {
  /** Experiment-level service (deployment) name, e.g. "A" or "helloworld-v1". */
  service: string;
  /** 0-based replica number within the deployment. */
  replica: number;
  /** Process name of the app (a, or a-0, a-1... with several replicas); the sidecar is `<proc>-sidecar`. */
  proc: string;
  /** The instance name the app reports (`x-spillover-instance`), e.g. a-0. */
  instance: string;
  host: string;
  namespace: string;
  cluster: string;
  network: string;
  locality: string;
  /** Pod labels as istiod sees them: app, version, the user's, and the topology labels of its node. */
  labels: Record<string, string>;
  /** Planned (address, sidecar bootstrap) but not created until a `scale` fault brings the deployment up to it. */
  standby?: boolean;
}

export interface TopologyGateway {
  /** Process and Envoy name: "gateway" for the study's one, else gateway-<cluster>. */
  name: string;
  cluster: string;
  network: string;
  port: number;
}

/** One caller of the load: its sidecar Envoy (own loopback address) and where it runs. */
export interface TopologyClient {
  /** "client" for the one-client form, else its key under `clients:`. */
  name: string;
  /** Process and Envoy name: "client", or client-<name>. */
  envoy: string;
  cluster: string;
  network: string;
  locality: string;
  namespace: string;
}

/** An ingress gateway (istio-ingressgateway) of one cluster. */
export interface TopologyIngressGateway {
  /** Process and Envoy name: ingress-<cluster>. */
  name: string;
  cluster: string;
  network: string;
  locality: string;
  /** The pod labels Gateway selectors match (Istio's default install: istio=ingressgateway, app=istio-ingressgateway). */
  labels: Record<string, string>;
}

export interface MeshTopology {
  discovery: 'federated' | 'multi-primary';
  clusters: TopologyCluster[];
  pods: TopologyPod[];
  /** The first client (the only one in the one-client form). */
  client: { cluster: string; network: string; locality: string };
  /** Every client, the first one first (src/experiment/clients.ts). */
  clients: TopologyClient[];
  gateways: TopologyGateway[];
  /** Ingress gateways, one per cluster that asks for one (absent: none). */
  ingressGateways?: TopologyIngressGateway[];
}

const namespaceOf = (host: string) => host.split('.')[1];

export function normaliseTopology(spec: Experiment): MeshTopology {
  const names = Object.keys(spec.topology.clusters);
  const clusters: TopologyCluster[] = names.map((n, i) => {
    const c = spec.topology.clusters[n];
    return { name: n, network: c.network, locality: c.locality, addresses: c.addresses ?? `127.0.${i + 1}.0/24` };
  });
  const byName = new Map(clusters.map((c) => [c.name, c]));
  const localityIn = (cluster: string, node: string | undefined, explicit: string | undefined) =>
    explicit ?? (node ? spec.topology.clusters[cluster]?.nodes?.[node]?.locality : undefined) ?? byName.get(cluster)?.locality ?? '';

  const pods: TopologyPod[] = [];
  for (const [service, s] of Object.entries(spec.services)) {
    const base = service.toLowerCase();
    const locality = localityIn(s.cluster, s.node, s.locality);
    // A later `scale` fault may need more pods than the deployment starts with: planned now, created by the fault.
    const scaledTo = spec.faults
      .filter((f) => f.action === 'scale' && f.target.toLowerCase() === service.toLowerCase())
      .map((f) => (f as { replicas: number }).replicas);
    const total = Math.max(s.replicas, ...scaledTo);
    for (let r = 0; r < total; r++) {
      const labels: Record<string, string> = { app: namespaceOf(s.host) ? s.host.split('.')[0] : base, ...(s.labels ?? {}) };
      if (s.version) labels.version = s.version;
      Object.assign(labels, localityLabels(locality), {
        'topology.istio.io/cluster': s.cluster,
        'topology.istio.io/network': byName.get(s.cluster)?.network ?? '',
      });
      pods.push({
        service,
        replica: r,
        proc: total === 1 ? base : `${base}-${r}`,
        instance: `${base}-${r}`,
        host: s.host,
        namespace: namespaceOf(s.host),
        cluster: s.cluster,
        network: byName.get(s.cluster)?.network ?? '',
        locality,
        labels,
        ...(r >= s.replicas ? { standby: true } : {}),
      });
    }
  }

  const clients = topologyClients(spec, (c) => byName.get(c)?.network ?? '', localityIn);
  let gateways: TopologyGateway[];
  if (spec.gateway) {
    gateways = [
      { name: 'gateway', cluster: spec.gateway.cluster, network: byName.get(spec.gateway.cluster)?.network ?? '', port: spec.gateway.port },
    ];
  } else {
    // One east-west gateway per network that has pods, in the network's first cluster with pods
    // (gen-eastwest-gateway.sh per network), when there is more than one network to cross.
    const networks = [...new Set(pods.map((p) => p.network))];
    const all = new Set([...networks, ...clients.map((c) => c.network)]);
    gateways =
      all.size < 2
        ? []
        : networks.map((net) => {
            const c = clusters.find((x) => x.network === net && pods.some((p) => p.cluster === x.name))!;
            return { name: `gateway-${c.name}`, cluster: c.name, network: net, port: 15443 };
          });
  }
  return {
    discovery: spec.topology.discovery ?? 'federated',
    clusters,
    pods,
    client: {
      cluster: spec.client.cluster,
      network: byName.get(spec.client.cluster)?.network ?? '',
      locality: localityIn(spec.client.cluster, spec.client.node, spec.client.locality),
    },
    clients,
    gateways,
    ...ingressGatewaysOf(spec, clusters),
  };
}

/** Every client with its network and locality as istiod would see its pod. */
function topologyClients(
  spec: Experiment,
  networkOf: (cluster: string) => string,
  localityIn: (cluster: string, node: string | undefined, explicit: string | undefined) => string,
): TopologyClient[] {
  return clientsOf(spec).map((c) => ({
    name: c.name,
    envoy: c.envoy,
    cluster: c.cluster,
    network: networkOf(c.cluster),
    locality: localityIn(c.cluster, c.node, c.locality),
    namespace: c.namespace,
  }));
}

function ingressGatewaysOf(spec: Experiment, clusters: TopologyCluster[]): { ingressGateways?: TopologyIngressGateway[] } {
  const ingress = clusters.flatMap((c) => {
    const ig = spec.topology.clusters[c.name].ingressGateway;
    return ig ? [{ name: `ingress-${c.name}`, cluster: c.name, network: c.network, locality: c.locality, labels: ig.labels }] : [];
  });
  return ingress.length ? { ingressGateways: ingress } : {};
}
