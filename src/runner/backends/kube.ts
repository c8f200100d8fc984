/**
 * `--backend kube --context-1 X --context-2 Y`: the same run against two existing clusters through
 * their kubeconfig contexts. Istio is installed only with `--install-istio`; otherwise the clusters'
 * own multi-network Istio (with an east-west gateway) is used. Only objects this run created are
 * deleted afterwards. See docs/real-clusters.md.
 */
import { SpilloverError } from '../../errors.ts';
import type { Backend } from '../backend.ts';
import { createClusterBackend, type ClusterBackendOptions } from '../kube/cluster-backend.ts';

export interface KubeBackendOptions extends Omit<ClusterBackendOptions, 'mode' | 'contexts' | 'installIstio'> {
  context1: string;
  context2: string;
  installIstio: boolean;
}

export function createKubeBackend(opts: KubeBackendOptions): Backend {
  const { context1, context2, ...rest } = opts;
  if (context1 === context2) {
    // A and B are both Service istio/a (the study's setup): in one cluster the second would replace the first.
    throw new SpilloverError({
      file: '--context-2',
      message: 'the two clusters must be different contexts',
      found: `--context-1 ${context1} --context-2 ${context2}`,
      fix: 'name two clusters; for one machine use --backend kind (two kind clusters) or --backend local',
    });
  }
  return createClusterBackend({ ...rest, mode: 'kube', contexts: [context1, context2] });
}
