/**
 * DestinationRule subsets (buildOutboundClusters' subset loop, MergeSubsetTrafficPolicy): one more
 * cluster `outbound|<port>|<subset>|<host>` per subset, whose endpoints are the pods carrying every
 * label of the subset, and whose policy is the DR's with the subset's fields laid over it.
 */
import type { Json } from './resources.ts';
import type { EndpointSpec } from './endpoints.ts';
import { trafficPolicyForPort } from './context.ts';

export interface SubsetDef {
  name: string;
  labels: Record<string, string>;
  index: number;
}

export function subsetsOf(dr: Json | undefined): SubsetDef[] {
  return ((dr?.spec?.subsets ?? []) as Json[]).map((s, index) => ({ name: String(s?.name ?? ''), labels: s?.labels ?? {}, index }));
}

/** Endpoints whose labels include every label of the subset (SubsetSelector.SubsetOf). */
export function selectSubset(endpoints: EndpointSpec[], labels: Record<string, string>): EndpointSpec[] {
  return endpoints.filter((e) => Object.entries(labels).every(([k, v]) => e.labels?.[k] === v));
}

const MERGED = ['connectionPool', 'outlierDetection', 'loadBalancer', 'tls', 'proxyProtocol', 'tunnel'] as const;

/**
 * The policy one port of one subset gets: the DR's port-level (or top-level) policy, each field the
 * subset sets replacing the DR's, then the subset's own portLevelSettings replacing outright.
 */
export function subsetPolicyForPort(
  dr: Json | undefined,
  port: number,
  subset: SubsetDef | undefined,
): { policy: Json | undefined; path: string } {
  const top = trafficPolicyForPort(dr, port);
  if (!subset) return top;
  const sp = dr?.spec?.subsets?.[subset.index]?.trafficPolicy;
  if (!sp) return top;
  const merged: Json = { ...(top.policy ?? {}) };
  delete merged.portLevelSettings;
  for (const k of MERGED) if (sp[k] !== undefined) merged[k] = sp[k];
  const levels: Json[] = sp.portLevelSettings ?? [];
  const i = levels.findIndex((p) => p?.port?.number === port);
  if (i >= 0) {
    for (const k of ['connectionPool', 'outlierDetection', 'loadBalancer', 'tls'] as const) merged[k] = levels[i][k];
    return { policy: merged, path: `subsets[${subset.index}].trafficPolicy.portLevelSettings[${i}]` };
  }
  return { policy: merged, path: `subsets[${subset.index}].trafficPolicy` };
}
