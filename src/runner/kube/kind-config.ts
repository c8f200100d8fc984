/**
 * kind cluster configs: one single-node cluster per experiment cluster, with pod and service ranges
 * that do not overlap (multi-network Istio never routes between them, but overlapping ranges would
 * make a leftover route or a later flat-network setup silently wrong), and node labels that give the
 * cluster its locality -- kind nodes carry none, and an empty locality flips which side of the
 * federation Istio prefers (facts: istio-translation §3).
 */
import type { Experiment } from '../../experiment/schema.ts';
import { DEFAULT_NODE_GROUP, NODE_GROUP_LABEL } from './kube-model.ts';

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';

/** Same ranges as Istio's own kind multicluster CI (prow/config/topology/multicluster.json). */
export function clusterRanges(index: number): { podSubnet: string; serviceSubnet: string } {
  const n = (index + 1) * 10;
  return { podSubnet: `10.${n}.0.0/16`, serviceSubnet: `10.255.${n}.0/24` };
}

export function localityLabels(locality: string): Record<string, string> {
  const [region, zone, subzone] = locality.split('/');
  return {
    'topology.kubernetes.io/region': region,
    ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}),
    ...(subzone ? { 'topology.istio.io/subzone': subzone } : {}),
  };
}

export interface KindClusterConfig {
  kind: 'Cluster';
  apiVersion: typeof KIND_API_VERSION;
  networking: { podSubnet: string; serviceSubnet: string };
  nodes: Array<{ role: 'control-plane' | 'worker'; labels: Record<string, string>; image?: string }>;
}

/**
 * A cluster with node groups spans several localities: one worker per group (and one for the cluster's
 * own locality), each labelled with its locality and its group, which the pods' nodeSelector names.
 * kind keeps the control plane tainted once there are workers, so no workload lands there.
 */
function workers(c: Experiment['topology']['clusters'][string], image: object): KindClusterConfig['nodes'] {
  const groups = Object.entries(c.nodes ?? {});
  if (!groups.length) return [];
  return [[DEFAULT_NODE_GROUP, { locality: c.locality }] as const, ...groups].map(([group, n]) => ({
    role: 'worker' as const,
    labels: { ...localityLabels(n.locality), [NODE_GROUP_LABEL]: group },
    ...image,
  }));
}

export function kindConfigs(spec: Experiment, nodeImage?: string): Record<string, KindClusterConfig> {
  return Object.fromEntries(
    Object.entries(spec.topology.clusters).map(([name, c], i) => [
      name,
      {
        kind: 'Cluster',
        apiVersion: KIND_API_VERSION,
        networking: clusterRanges(i),
        nodes: [
          { role: 'control-plane', labels: localityLabels(c.locality), ...(nodeImage ? { image: nodeImage } : {}) },
          ...workers(c, nodeImage ? { image: nodeImage } : {}),
        ],
      },
    ]),
  );
}
