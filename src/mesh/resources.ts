/**
 * The experiment's Istio resources as the translation sees them: looked up by kind and host, each
 * remembering where it came from so that warnings can name the file and list index.
 */
import type { MeshPlan } from './plan.ts';

// Istio resources are validated structurally before translation (validate.ts); here they are read
// as loose JSON, the way istiod reads protobuf messages with every field optional.
export type Json = any;

export interface IstioResource {
  kind: string;
  name: string;
  namespace?: string;
  spec: Json;
  metadata: Json;
  /** Index in plan.resources, for messages. */
  index: number;
}

export interface ResourceSource {
  file: string;
  basePath: string;
}

export class Resources {
  readonly all: IstioResource[];
  constructor(
    resources: MeshPlan['resources'],
    readonly source: ResourceSource,
  ) {
    this.all = resources.map((r: Json, index) => ({
      kind: String(r?.kind ?? ''),
      name: String(r?.metadata?.name ?? `#${index}`),
      namespace: r?.metadata?.namespace,
      spec: r?.spec ?? {},
      metadata: r?.metadata ?? {},
      index,
    }));
  }

  /**
   * The resources applied in one cluster. With replicated control planes each istiod sees only its own
   * cluster's config, and the study applies its ServiceEntry and DestinationRule in cluster-1 alone --
   * so cluster-2's gateway and B's sidecar do not get cluster-1's connection-pool limits. A resource
   * meant for several clusters says so: `metadata.annotations["spillover.dev/clusters"]: "cluster-1,cluster-2"`.
   */
  inCluster(cluster: string, defaultCluster: string): Resources {
    const view = Object.create(Resources.prototype) as Resources;
    Object.assign(view, { source: this.source, all: this.all.filter((r) => clustersOf(r, defaultCluster).includes(cluster)) });
    return view;
  }

  ofKind(kind: string) {
    return this.all.filter((r) => r.kind === kind);
  }

  /** `DestinationRule a (experiments/peak-load.yaml resources[1])`, the prefix of every message. */
  describe(r: IstioResource) {
    return `${r.kind} ${r.name} (${this.source.file} ${this.source.basePath}[${r.index}])`;
  }

  /**
   * The DestinationRule for a host. Istio picks the most specific host match in the service's
   * namespace first; exact match, then the longest wildcard suffix, covers our experiments.
   */
  destinationRule(host: string): IstioResource | undefined {
    const drs = this.ofKind('DestinationRule').filter((r) => hostMatches(String(r.spec.host ?? ''), host));
    drs.sort((a, b) => specificity(String(b.spec.host)) - specificity(String(a.spec.host)));
    return drs[0];
  }

  /** The VirtualService that applies to sidecars for a host: one bound to a gateway only does not (Istio's `mesh`). */
  virtualServiceFor(host: string): IstioResource | undefined {
    return this.ofKind('VirtualService').find((r) => appliesToMesh(r) && (r.spec.hosts ?? []).some((h: string) => hostMatches(h, host)));
  }

  serviceEntriesFor(host: string) {
    return this.ofKind('ServiceEntry').filter((r) => (r.spec.hosts ?? []).includes(host));
  }

  /** Workload-level policy wins over namespace-wide; mesh-wide (istio-system) last. */
  peerAuthentication(namespace: string): IstioResource | undefined {
    const pas = this.ofKind('PeerAuthentication');
    return (
      pas.find((r) => r.namespace === namespace && r.spec.selector) ??
      pas.find((r) => r.namespace === namespace) ??
      pas.find((r) => r.namespace === undefined || r.namespace === 'istio-system')
    );
  }
}

/** A VirtualService without `gateways` applies to sidecars only; with them, only if they name `mesh`. */
export const appliesToMesh = (r: IstioResource) => !(r.spec.gateways ?? []).length || (r.spec.gateways as string[]).includes('mesh');

export function hostMatches(pattern: string, host: string) {
  if (pattern === host || pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  // Short names resolve in the resource's namespace; "a" matches "a.<ns>.svc.cluster.local".
  return !pattern.includes('.') ? host.startsWith(`${pattern}.`) : false;
}

const specificity = (h: string) => (h.startsWith('*') ? h.length - 100 : h.length + 1000);

export const CLUSTERS_ANNOTATION = 'spillover.dev/clusters';

function clustersOf(r: IstioResource, defaultCluster: string): string[] {
  const a = r.metadata?.annotations?.[CLUSTERS_ANNOTATION];
  return typeof a === 'string' && a.trim() ? a.split(',').map((c: string) => c.trim()) : [defaultCluster];
}
