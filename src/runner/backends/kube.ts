/**
 * `--backend kube --context-1 X --context-2 Y`: the same run against two existing clusters through
 * their kubeconfig contexts. Istio is installed only with `--install-istio`; otherwise the clusters'
 * own multi-network Istio (with an east-west gateway) is used. Only objects this run created are
 * deleted afterwards. See docs/real-clusters.md.
 */
import type { Backend } from '../backend.ts';
import { createClusterBackend, type ClusterBackendOptions } from '../kube/cluster-backend.ts';

export interface KubeBackendOptions extends Omit<ClusterBackendOptions, 'mode' | 'contexts' | 'installIstio'> {
  context1: string;
  context2: string;
  installIstio: boolean;
}

export function createKubeBackend(opts: KubeBackendOptions): Backend {
  const { context1, context2, ...rest } = opts;
  return createClusterBackend({ ...rest, mode: 'kube', contexts: [context1, context2] });
}
