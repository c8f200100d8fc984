/**
 * Istio resources and fields the local translation does not model, named as caveats (they reach the
 * run's manifest and the report's "Caveats") instead of being silently ignored. Each says what istiod
 * would do with it, so a reader can judge whether the run still answers their question.
 *
 * Fields that are translated, or already warned about where they are translated (subsets, the
 * load-balancer extras, VirtualService routes, outlierDetectionHttpErrorCodes), are not listed.
 */
import type { IstioResource, Resources } from './resources.ts';

interface Gap {
  kind: string;
  /** Dotted path under spec. */
  field: string;
  /** What istiod does with it that this run does not. */
  istio: string;
}

const GAPS: Gap[] = [
  // egress[].hosts and port, outboundTrafficPolicy.mode and workloadSelector are translated (sidecar-scope.ts, egress-fallback.ts).
  { kind: 'Sidecar', field: 'ingress', istio: 'replaces the inbound listeners of the selected workloads' },
  { kind: 'Sidecar', field: 'egress[0].bind', istio: 'binds the egress listener to another address' },
  { kind: 'Sidecar', field: 'egress[0].captureMode', istio: 'changes how outbound traffic is captured' },
  {
    kind: 'Sidecar',
    field: 'outboundTrafficPolicy.egressProxy',
    istio: 'sends traffic for unknown hosts to an egress proxy instead of passing it through',
  },
  { kind: 'DestinationRule', field: 'trafficPolicy.tunnel', istio: 'tunnels the traffic through an HTTP CONNECT proxy' },
  { kind: 'DestinationRule', field: 'trafficPolicy.proxyProtocol', istio: 'sends a PROXY protocol header upstream' },
  { kind: 'DestinationRule', field: 'exportTo', istio: 'limits the namespaces that see the rule; here every proxy of its cluster does' },
  { kind: 'DestinationRule', field: 'workloadSelector', istio: 'scopes the rule to some clients; here it applies to every client' },
  { kind: 'ServiceEntry', field: 'addresses', istio: 'gives the host virtual IPs to match on' },
  { kind: 'ServiceEntry', field: 'workloadSelector', istio: 'selects pods or WorkloadEntries as endpoints instead of spec.endpoints' },
  { kind: 'ServiceEntry', field: 'exportTo', istio: 'limits the namespaces that see the entry' },
  { kind: 'VirtualService', field: 'tls', istio: 'routes TLS traffic by SNI' },
  { kind: 'VirtualService', field: 'tcp', istio: 'routes TCP traffic' },
  // match, route (subsets, weights), retries, timeout, fault, mirror(s) and their percentages, rewrite,
  // redirect, headers, CORS and direct responses of every http route are translated (vs-routes.ts, vs-actions.ts).
  { kind: 'VirtualService', field: 'http[0].delegate', istio: 'hands the route to another VirtualService' },
];

function get(spec: unknown, dotted: string): unknown {
  let v = spec as Record<string, unknown> | undefined;
  for (const seg of dotted.replace(/\[(\d+)\]/g, '.$1').split('.'))
    v = v && typeof v === 'object' ? (v[seg] as Record<string, unknown>) : undefined;
  return v;
}

/** One caveat per resource field set that the translation does not model. */
export function untranslatedCaveats(resources: Resources): string[] {
  const out: string[] = [];
  for (const r of resources.all as IstioResource[]) {
    for (const g of GAPS) {
      if (g.kind !== r.kind || get(r.spec, g.field) === undefined) continue;
      out.push(
        `${resources.describe(r)}: spec.${g.field} is not modelled by the local backend and has no effect in this run (in Istio it ${g.istio})`,
      );
    }
  }
  return out;
}
