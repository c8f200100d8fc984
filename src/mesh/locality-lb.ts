/**
 * Locality load balancing as istiod applies it to a ClusterLoadAssignment
 * (loadbalancer.ApplyLocalityLoadBalancer): `distribute` weights, or failover priorities from
 * `failoverPriority` labels and the locality match with the proxy (`failover` rules push a region
 * that is not the rule's `to` one step further down), then compacted to 0..N.
 */
import type { Json } from './resources.ts';
import type { EndpointSpec } from './endpoints.ts';
import { parseLocality, rawPriority } from './locality.ts';

export type WeightedEndpoint = EndpointSpec & { weight: number };

/** One LocalityLbEndpoints: a locality at a priority, its endpoints, and its weight. */
export interface LbGroup {
  locality: string;
  priority: number;
  endpoints: WeightedEndpoint[];
  /** Set by `distribute`; otherwise the sum of the endpoint weights (refreshWeight). */
  weight?: number;
}

export interface ProxyView {
  locality: string;
  /** The proxy's labels, for failoverPriority (topology labels, cluster, network). */
  labels: Record<string, string>;
}

/** util.LocalityMatch: rule "region/zone/subzone", "*" or a missing part matches anything. */
export function localityMatch(locality: string, rule: string): boolean {
  const l = parseLocality(locality);
  const [region = '', zone = '', subzone = ''] = rule.split('/');
  const ok = (r: string, v: string, emptyMatches: boolean) => r === '*' || (emptyMatches && r === '') || r === v;
  return ok(region, l.region, false) && ok(zone, l.zone, true) && ok(subzone, l.subzone, true);
}

/** Endpoints grouped by locality, in the order they first appear (istiod's generate()). */
export function groupByLocality(endpoints: WeightedEndpoint[]): LbGroup[] {
  const groups = new Map<string, LbGroup>();
  for (const e of endpoints) {
    if (!groups.has(e.locality)) groups.set(e.locality, { locality: e.locality, priority: 0, endpoints: [] });
    groups.get(e.locality)!.endpoints.push(e);
  }
  return [...groups.values()];
}

/**
 * `setting` is the effective localityLbSetting (undefined: locality LB off). Returns the groups with
 * priorities and weights, and whether Envoy needs locality_weighted_lb_config.
 */
export function applyLocalityLb(
  groups: LbGroup[],
  proxy: ProxyView,
  setting: Json | undefined,
  enableFailover: boolean,
): { groups: LbGroup[]; localityWeighted: boolean } {
  if (!setting || setting.enabled === false) return { groups, localityWeighted: false };
  if (setting.distribute?.length) {
    return { groups: applyLocalityWeights(groups, proxy.locality, setting.distribute), localityWeighted: true };
  }
  if (!enableFailover) return { groups, localityWeighted: false };
  const fp: string[] = setting.failoverPriority ?? [];
  const failover: Json[] = setting.failover ?? [];
  let out = groups;
  if (fp.length) out = applyFailoverPriorities(groups, proxy.labels, fp);
  if (!fp.length || failover.length) out = applyLocalityFailover(out, proxy.locality, failover);
  return { groups: compact(out), localityWeighted: fp.length > 0 || failover.length > 0 };
}

function applyLocalityWeights(groups: LbGroup[], proxyLocality: string, distribute: Json[]): LbGroup[] {
  const rule = distribute.find((d) => d && localityMatch(proxyLocality, String(d.from ?? '')));
  if (!rule) return groups;
  const unmatched = new Set(groups.map((_, i) => i));
  const weights = new Map<number, number>();
  for (const [to, w] of Object.entries(rule.to ?? {}) as Array<[string, number]>) {
    const dest = new Map<number, number>();
    let total = 0;
    groups.forEach((g, i) => {
      if (!unmatched.has(i) || !localityMatch(g.locality, to)) return;
      unmatched.delete(i);
      const own = g.weight ?? g.endpoints.reduce((s, e) => s + e.weight, 0);
      dest.set(i, own);
      total += own;
    });
    // A wildcard matching several localities shares the rule's weight among them by their own weight.
    for (const [i, own] of dest) {
      const share = (own * Number(w)) / total;
      if (share > 0) weights.set(i, Math.ceil(share));
    }
  }
  // istiod empties the localities no rule names (LbEndpoints = nil) but keeps each, with its weight:
  // they get no traffic.
  const own = (g: LbGroup) => g.weight ?? g.endpoints.reduce((s, e) => s + e.weight, 0);
  return groups.map((g, i) => (unmatched.has(i) ? { ...g, endpoints: [], weight: own(g) } : { ...g, weight: weights.get(i) ?? g.weight }));
}

/** Label-based priority: len - j for the first label j whose value differs from the proxy's. */
function applyFailoverPriorities(groups: LbGroup[], proxyLabels: Record<string, string>, labels: string[]): LbGroup[] {
  // A network label first is special (applyFailoverPriorityPerLocality's includesNetwork): another
  // network does not stop the match; it only puts the endpoint below every same-network one.
  const includesNetwork = labels[0]?.split('=')[0] === 'topology.istio.io/network';
  const prio = (epLabels: Record<string, string> = {}) => {
    let adjust = 0;
    for (let j = 0; j < labels.length; j++) {
      const [key, value] = labels[j].split('=');
      const want = value ?? proxyLabels[key];
      if (epLabels[key] === want) continue;
      if (j === 0 && includesNetwork) {
        adjust = labels.length;
        continue;
      }
      return labels.length - j + adjust;
    }
    return adjust;
  };
  const out: LbGroup[] = [];
  for (const g of groups) {
    const split = new Map<number, WeightedEndpoint[]>();
    for (const e of g.endpoints) {
      const p = prio(e.labels);
      if (!split.has(p)) split.set(p, []);
      split.get(p)!.push(e);
    }
    for (const [p, eps] of [...split.entries()].sort((a, b) => a[0] - b[0]))
      out.push({ locality: g.locality, priority: p, endpoints: eps });
  }
  return compact(out);
}

/** Raw locality priority (0-3, 4 when a failover rule excludes the region), on top of priority × 5. */
function applyLocalityFailover(groups: LbGroup[], proxyLocality: string, failover: Json[]): LbGroup[] {
  const proxyRegion = parseLocality(proxyLocality).region;
  return groups.map((g) => {
    let p = rawPriority(proxyLocality, g.locality);
    if (p === 3) {
      const rule = failover.find((f) => f?.from === proxyRegion);
      if (rule && parseLocality(g.locality).region !== rule.to) p = 4;
    }
    return { ...g, priority: g.priority * 5 + p };
  });
}

/** Priorities ordered from 0 without gaps, as Envoy requires. */
function compact(groups: LbGroup[]): LbGroup[] {
  const levels = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  return groups.map((g) => ({ ...g, priority: levels.indexOf(g.priority) }));
}
