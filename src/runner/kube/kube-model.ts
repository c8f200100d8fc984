/**
 * The general topology model (experiment/topology.ts) as the cluster backends see it: which clusters
 * run an east-west gateway, what each deployment is called, which node a pod is pinned to, and where
 * the experiment's Istio resources go. One place, so kind configs, workloads and steps agree.
 *
 * The study's shorthand (`gateway:`, two clusters) keeps exactly the rendering it always had: an
 * east-west gateway in every cluster, deployments named after their Service, no node pinning.
 */
import type { Experiment, ServiceDef } from '../../experiment/schema.ts';
import { normaliseTopology } from '../../experiment/topology.ts';
import { serviceOfHost } from './names.ts';

/** Node label naming a cluster's node group (topology.clusters.<c>.nodes.<group>) on kind's workers. */
export const NODE_GROUP_LABEL = 'spillover.dev/node-group';
/** kind: the worker of a multi-node cluster that carries the cluster's own locality. */
export const DEFAULT_NODE_GROUP = 'default';

export const hasNodeGroups = (spec: Experiment, cluster: string) => Object.keys(spec.topology.clusters[cluster]?.nodes ?? {}).length > 0;

/** Clusters with an east-west gateway: every cluster for the study's `gateway:`, else one per network (topology.ts). */
export function eastWestClusters(spec: Experiment): string[] {
  if (spec.gateway) return Object.keys(spec.topology.clusters);
  return [...new Set(normaliseTopology(spec).gateways.map((g) => g.cluster))];
}

/** The port the east-west gateway's TLS listener is exposed on (15443 unless the study's `gateway.port` says otherwise). */
export const eastWestPort = (spec: Experiment) => spec.gateway?.port ?? 15443;

/** Clusters whose istiod reads the experiment's Istio resources: the client's (federated), or every primary. */
export function resourceClusters(spec: Experiment): string[] {
  if (spec.topology.discovery === 'multi-primary') return Object.keys(spec.topology.clusters);
  return [spec.client.cluster];
}

/** The service the load enters through: the first one in the client's cluster, else the first one (as the local backend). */
export function entryService(spec: Experiment): ServiceDef {
  const all = Object.values(spec.services);
  return all.find((s) => s.cluster === spec.client.cluster) ?? all[0];
}

/**
 * Deployment name of an experiment service: its Service's name (a), unless another service of the
 * same host runs in the same cluster (two localities of one cluster), then the service's own name.
 */
export function deploymentName(spec: Experiment, service: string): string {
  const s = spec.services[service];
  const shared = Object.entries(spec.services).some(([n, o]) => n !== service && o.cluster === s.cluster && o.host === s.host);
  return shared ? service.toLowerCase() : serviceOfHost(s.host).name;
}

/** The node group a workload is pinned to, or undefined in a single-node cluster. */
export function nodeGroupOf(spec: Experiment, cluster: string, node: string | undefined): string | undefined {
  if (!hasNodeGroups(spec, cluster)) return undefined;
  return node ?? DEFAULT_NODE_GROUP;
}

/**
 * nodeSelector pinning a pod to its locality's node: kind's workers carry the group label; on existing
 * clusters the nodes' own topology labels are what a pod can be pinned by.
 */
export function nodeSelectorFor(
  spec: Experiment,
  mode: 'kind' | 'kube',
  cluster: string,
  node: string | undefined,
  locality: string,
): Record<string, string> | undefined {
  const group = nodeGroupOf(spec, cluster, node);
  if (!group) return undefined;
  if (mode === 'kind') return { [NODE_GROUP_LABEL]: group };
  const [region, zone, subzone] = locality.split('/');
  return {
    'topology.kubernetes.io/region': region,
    ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}),
    ...(subzone ? { 'topology.istio.io/subzone': subzone } : {}),
  };
}

/** Locality of a service's pods: its own, its node group's, or its cluster's. */
export function serviceLocality(spec: Experiment, s: ServiceDef): string {
  return (
    s.locality ??
    (s.node ? spec.topology.clusters[s.cluster]?.nodes?.[s.node]?.locality : undefined) ??
    spec.topology.clusters[s.cluster].locality
  );
}

export function clientLocality(spec: Experiment): string {
  const c = spec.client;
  return (
    c.locality ??
    (c.node ? spec.topology.clusters[c.cluster]?.nodes?.[c.node]?.locality : undefined) ??
    spec.topology.clusters[c.cluster].locality
  );
}
