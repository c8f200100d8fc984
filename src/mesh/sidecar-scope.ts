/**
 * Which Sidecar resource configures a proxy, and which hosts its egress imports
 * (pilot/pkg/model/sidecar.go: getSidecarScope, hostsFromEgressListener, selectServices).
 *
 * Selection: in the proxy's namespace, a Sidecar whose workloadSelector matches the proxy's labels,
 * else that namespace's Sidecar without selector, else the root namespace's (istio-system; a Sidecar
 * without metadata.namespace counts as mesh-wide, as the oracle places it) without selector.
 * Egress hosts are `namespace/dnsName`: namespace `*` (any), `.` (the Sidecar's own) or a name, with
 * a `~` prefix excluding instead of importing; dnsName `*`, `*.suffix` or an FQDN. A listener with a
 * port imports only services on that port. No egress: everything (`*\/*`).
 */
import type { IstioResource, Json, Resources } from './resources.ts';

export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface EgressScope {
  sidecar?: IstioResource;
  /** Whether the proxy gets a cluster and a virtual host for this service. */
  imports(host: string, namespace: string, port: number): boolean;
  outboundTrafficPolicy: OutboundPolicy;
}

const ROOT_NAMESPACE = 'istio-system';

const selects = (s: IstioResource, labels: Record<string, string>) => {
  const want: Record<string, string> = s.spec.workloadSelector?.labels ?? {};
  return Object.entries(want).every(([k, v]) => labels[k] === v);
};

/** The Sidecar that applies to a proxy in `namespace` with `labels` (workload selector first). */
export function selectSidecar(all: IstioResource[], namespace: string, labels: Record<string, string>): IstioResource | undefined {
  const inNs = all.filter((s) => s.namespace === namespace);
  return (
    inNs.find((s) => s.spec.workloadSelector && selects(s, labels)) ??
    inNs.find((s) => !s.spec.workloadSelector) ??
    all.find((s) => (s.namespace === undefined || s.namespace === ROOT_NAMESPACE) && !s.spec.workloadSelector)
  );
}

/** hostClassification.Matches: `*`, a `*.suffix` wildcard, or the exact name. */
export function egressHostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : false;
}

interface ParsedHost {
  namespace: string;
  name: string;
  excluded: boolean;
}

/** hostsFromEgressListener: `~` excludes, `.` is the Sidecar's namespace, `~/h` excludes in every namespace. */
export function parseEgressHost(h: string, sidecarNamespace: string): ParsedHost | undefined {
  if ((h.match(/\//g) ?? []).length !== 1) return undefined;
  let [ns, name] = h.split('/');
  const excluded = ns.startsWith('~');
  if (excluded) ns = ns.slice(1) || '*';
  if (ns === '.') ns = sidecarNamespace;
  return { namespace: ns, name, excluded };
}

export function egressScope(resources: Resources, namespace: string, labels: Record<string, string>): EgressScope {
  const sidecar = selectSidecar(resources.ofKind('Sidecar'), namespace, labels);
  const policy: OutboundPolicy = sidecar?.spec.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
  const listeners: Json[] = sidecar?.spec.egress ?? [];
  if (!sidecar || !listeners.length) return { sidecar, imports: () => true, outboundTrafficPolicy: policy };
  const sidecarNs = sidecar.namespace ?? ROOT_NAMESPACE;
  const parsed = listeners.map((l) => ({
    port: l?.port?.number as number | undefined,
    hosts: ((l?.hosts ?? []) as string[]).map((h) => parseEgressHost(h, sidecarNs)).filter((x) => x !== undefined),
  }));
  const imports = (host: string, ns: string, port: number) =>
    parsed.some((l) => {
      if (l.port !== undefined && l.port !== port) return false;
      const inScope = (p: ParsedHost) => (p.namespace === ns || p.namespace === '*') && egressHostMatches(p.name, host);
      if (l.hosts.some((p) => p.excluded && inScope(p))) return false;
      // An import of the service's own namespace is tried before `*/...`; either imports it.
      return l.hosts.some((p) => !p.excluded && inScope(p));
    });
  return { sidecar, imports, outboundTrafficPolicy: policy };
}
