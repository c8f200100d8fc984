/**
 * `--backend kind`: two kind clusters on this workstation (or CI runner), created in parallel, with
 * Istio multi-primary multi-network, the services built from src/workload and loaded into kind, and
 * the experiment's federation rules. See docs/real-clusters.md.
 */
import type { Backend } from '../backend.ts';
import { createClusterBackend, type ClusterBackendOptions } from '../kube/cluster-backend.ts';

export type KindBackendOptions = Omit<ClusterBackendOptions, 'mode' | 'contexts' | 'installIstio'>;

export function createKindBackend(opts: KindBackendOptions = {}): Backend {
  return createClusterBackend({ ...opts, mode: 'kind', installIstio: true });
}
