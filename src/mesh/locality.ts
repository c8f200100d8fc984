/**
 * Locality failover priorities (loadbalancer.applyLocalityFailover, util.LbPriority): relative to the
 * proxy's locality, then compacted to 0..N. Only when failover is on, which for a DestinationRule
 * means outlierDetection is set (endpoint_builder enableFailover) and locality LB is enabled.
 */
export interface LocalityParts {
  region: string;
  zone: string;
  subzone: string;
}

export function parseLocality(l: string | undefined): LocalityParts {
  const [region = '', zone = '', subzone = ''] = (l ?? '').split('/');
  return { region, zone, subzone };
}

export function envoyLocality(l: string | undefined): Record<string, string> | undefined {
  const p = parseLocality(l);
  const out: Record<string, string> = {};
  if (p.region) out.region = p.region;
  if (p.zone) out.zone = p.zone;
  if (p.subzone) out.sub_zone = p.subzone;
  return Object.keys(out).length ? out : undefined;
}

/** Raw priority of an endpoint seen from a proxy; empty strings compare equal (LocalityMatch). */
export function rawPriority(proxy: string | undefined, endpoint: string | undefined): number {
  const p = parseLocality(proxy);
  const e = parseLocality(endpoint);
  if (p.region !== e.region) return 3;
  if (p.zone !== e.zone) return 2;
  if (p.subzone !== e.subzone) return 1;
  return 0;
}

/** Contiguous priorities in the same order: raw {0,3} -> {0,1}. */
export function compactPriorities(raw: number[]): number[] {
  const levels = [...new Set(raw)].sort((a, b) => a - b);
  return raw.map((r) => levels.indexOf(r));
}

/** Priorities for endpoint localities, or all 0 when failover is off. */
export function failoverPriorities(proxy: string | undefined, endpoints: Array<string | undefined>, failover: boolean): number[] {
  if (!failover) return endpoints.map(() => 0);
  return compactPriorities(endpoints.map((e) => rawPriority(proxy, e)));
}

/** Kubernetes' node labels for a locality (istiod's getPodLocality reads them back). */
export function localityLabels(locality: string): Record<string, string> {
  const { region, zone, subzone } = parseLocality(locality);
  const out: Record<string, string> = {};
  if (region) out['topology.kubernetes.io/region'] = region;
  if (zone) out['topology.kubernetes.io/zone'] = zone;
  if (subzone) out['topology.istio.io/subzone'] = subzone;
  return out;
}
