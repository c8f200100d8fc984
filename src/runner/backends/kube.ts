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
  context1?: string;
  context2?: string;
  /** Context per experiment cluster by name (`--context cluster3=ctx`), for any number of clusters. */
  contexts?: Record<string, string>;
  installIstio: boolean;
}

export function createKubeBackend(opts: KubeBackendOptions): Backend {
  const { context1, context2, contexts, ...rest } = opts;
  if (contexts && Object.keys(contexts).length) {
    // --context-1/-2 still name the first two clusters (in topology order) where --context does not.
    const positional = [context1, context2].filter((c): c is string => Boolean(c));
    return createClusterBackend({
      ...rest,
      mode: 'kube',
      contexts: positional.length ? { ...positionalNames(positional), ...contexts } : contexts,
    });
  }
  if (context1 === context2) {
    // A and B are both Service istio/a (the study's setup): in one cluster the second would replace the first.
    throw new SpilloverError({
      file: '--context-2',
      message: 'the two clusters must be different contexts',
      found: `--context-1 ${context1} --context-2 ${context2}`,
      fix: 'name two clusters; for one machine use --backend kind (two kind clusters) or --backend local',
    });
  }
  return createClusterBackend({ ...rest, mode: 'kube', contexts: [context1, context2].filter((c): c is string => Boolean(c)) });
}

/** Positional contexts are resolved against the experiment's cluster order later; marked by index here. */
const positionalNames = (ctxs: string[]) => Object.fromEntries(ctxs.map((c, i) => [`#${i}`, c]));
