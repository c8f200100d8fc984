/**
 * Which proxy is which on real clusters, and the endpoints the client's outbound cluster will hold:
 * A's pod and the gateway address from the ServiceEntry, with the priorities istiod gives them
 * relative to the client's locality (facts istio-translation §3: 0 same zone+subzone, 1 same zone,
 * 2 same region, 3 other region; then compacted to 0..N).
 */
import type { Experiment } from '../../experiment/schema.ts';
import type { TopologyManifest } from '../../contracts/raw.ts';

export function lbPriority(proxy: string, endpoint: string): number {
  const [pr = '', pz = '', ps = ''] = proxy.split('/');
  const [er = '', ez = '', es = ''] = endpoint.split('/');
  if (pr !== er) return 3;
  if (pz !== ez) return 2;
  if (ps !== es) return 1;
  return 0;
}

export function compact(raw: number[]): number[] {
  const levels = [...new Set(raw)].sort((a, b) => a - b);
  return raw.map((r) => levels.indexOf(r));
}

export interface TopologyInput {
  spec: Experiment;
  /** Local admin address (port-forward) per Envoy name. */
  admin: Record<string, string>;
  /** Pod IP of the service in the client's cluster. */
  localPodIp: string;
  appPort: number;
  /** The gateway address filled into the ServiceEntry, and the locality that endpoint carries. */
  gatewayAddress: string;
  gatewayLocality: string;
}

export function kubeTopology(t: TopologyInput): TopologyManifest {
  const { spec } = t;
  const local = Object.entries(spec.services).find(([, s]) => s.cluster === spec.client.cluster)!;
  const remote = Object.entries(spec.services).find(([, s]) => s.cluster === spec.gateway!.cluster)!;
  const clientLocality = spec.client.locality ?? spec.topology.clusters[spec.client.cluster].locality;
  const localLocality = local[1].locality ?? spec.topology.clusters[local[1].cluster].locality;
  const [pa, pb] = compact([lbPriority(clientLocality, localLocality), lbPriority(clientLocality, t.gatewayLocality)]);
  const sidecar = (name: string) => `${name.toLowerCase()}-sidecar`;
  return {
    envoys: {
      client: { role: 'client', cluster: spec.client.cluster, admin: t.admin.client },
      [sidecar(local[0])]: { role: 'a-sidecar', cluster: local[1].cluster, admin: t.admin[sidecar(local[0])] },
      gateway: { role: 'gateway', cluster: spec.gateway!.cluster, admin: t.admin.gateway },
      [sidecar(remote[0])]: { role: 'b-sidecar', cluster: remote[1].cluster, admin: t.admin[sidecar(remote[0])] },
    },
    clientCluster: `outbound|${local[1].port.number}||${local[1].host}`,
    endpoints: {
      [`${t.localPodIp}:${t.appPort}`]: { service: local[0], locality: localLocality, priority: pa },
      [`${t.gatewayAddress}:${spec.gateway!.port}`]: { service: remote[0], locality: t.gatewayLocality, priority: pb },
    },
  };
}

/** The locality the experiment's ServiceEntry gives the gateway endpoint (or the gateway cluster's). */
export function gatewayEndpointLocality(spec: Experiment): string {
  for (const r of spec.resources as Array<{ kind?: string; spec?: { endpoints?: Array<{ address?: string; locality?: string }> } }>) {
    if (r.kind !== 'ServiceEntry') continue;
    const ep = r.spec?.endpoints?.find((e) => typeof e.address === 'string' && e.address.includes(`gateway.${spec.gateway!.cluster}`));
    if (ep?.locality) return ep.locality;
  }
  return spec.topology.clusters[spec.gateway!.cluster].locality;
}
