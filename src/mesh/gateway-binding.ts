/**
 * Which Istio `Gateway` servers an ingress gateway takes (its labels against `spec.selector`, in its
 * cluster), and which VirtualServices are bound to them (`spec.gateways: [ns/name]`), as istiod's
 * MergeGateways and the gateway route builder decide. What istiod silently ignores -- a Gateway that
 * selects no gateway pod, a VirtualService naming a Gateway that does not exist, a host no server
 * admits -- is named as a caveat, since the run would otherwise just answer 404.
 */
import type { TranslateContext } from './context.ts';
import { gatewaysOf, ingressGatewaysOf, type IngressGatewayPlan } from './plan.ts';
import { hostMatches, type IstioResource, type Json, type Resources } from './resources.ts';

/** Resources without a namespace are placed in istio-system (as src/oracle/istiod-request.ts applies them). */
const nsOf = (r: IstioResource) => r.namespace ?? 'istio-system';

/** Istio's default east-west gateway pods carry istio=eastwestgateway (gen-eastwest-gateway.sh). */
const EAST_WEST_LABELS = { istio: 'eastwestgateway', app: 'istio-eastwestgateway' };

export interface GatewayServer {
  gateway: IstioResource;
  port: number;
  /** Server hosts without their namespace part (`ns/host` -> host). */
  hosts: string[];
  httpsRedirect: boolean;
}

const selects = (gw: IstioResource, labels: Record<string, string>) =>
  Object.entries((gw.spec.selector ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);

/** The HTTP servers of the Gateways (in the gateway's cluster) that select this gateway; what is not modelled is warned about. */
export function gatewayServers(gw: IngressGatewayPlan, ctx: TranslateContext): GatewayServer[] {
  const out: GatewayServer[] = [];
  for (const g of ctx.resources.ofKind('Gateway')) {
    if (!selects(g, gw.labels)) continue;
    ((g.spec.servers ?? []) as Json[]).forEach((s, i) => {
      const where = `${ctx.resources.describe(g)}: spec.servers[${i}]`;
      const protocol = String(s.port?.protocol ?? '').toUpperCase();
      if (protocol !== 'HTTP' || (s.tls?.mode && !s.tls?.httpsRedirect)) {
        ctx.warnings.push(
          `${where}: protocol ${protocol || '(none)'}${s.tls?.mode ? ` with tls.mode ${s.tls.mode}` : ''} is not modelled by the local backend (no credentials or SDS for the gateway), so ${gw.name} has no listener for port ${s.port?.number}; in Istio it would terminate or pass TLS there. Use protocol HTTP`,
        );
        return;
      }
      out.push({
        gateway: g,
        port: Number(s.port?.number),
        hosts: ((s.hosts ?? []) as string[]).map((h) => (h.includes('/') ? h.split('/')[1] : h)),
        httpsRedirect: !!s.tls?.httpsRedirect,
      });
    });
  }
  return out;
}

/** `name` or `ns/name` of a VirtualService's gateways entry, resolved against the VirtualService's namespace. */
const gatewayRef = (vs: IstioResource, ref: string) => (ref.includes('/') ? ref : `${nsOf(vs)}/${ref}`);

/** The more specific of a server host and a VirtualService host that match each other, else undefined. */
function intersect(serverHost: string, vsHost: string): string | undefined {
  if (hostMatches(serverHost, vsHost)) return vsHost;
  if (hostMatches(vsHost, serverHost)) return serverHost;
  return undefined;
}

/** The VirtualServices bound to any of these servers' Gateways, each with the hosts (virtual hosts) the servers admit. */
export function gatewayVirtualServices(servers: GatewayServer[], ctx: TranslateContext): Array<{ vs: IstioResource; hosts: string[] }> {
  const out: Array<{ vs: IstioResource; hosts: string[] }> = [];
  for (const vs of ctx.resources.ofKind('VirtualService')) {
    const refs = ((vs.spec.gateways ?? []) as string[]).map((r) => gatewayRef(vs, r));
    const mine = servers.filter((s) => refs.includes(`${nsOf(s.gateway)}/${s.gateway.name}`));
    if (!mine.length) continue;
    const hosts = new Set<string>();
    for (const h0 of (vs.spec.hosts ?? []) as string[]) {
      // A short name is the Service in the VirtualService's namespace (ResolveShortnameToFQDN).
      const h = h0.includes('.') || h0 === '*' ? h0 : `${h0}.${nsOf(vs)}.svc.cluster.local`;
      for (const s of mine)
        for (const sh of s.hosts) {
          const x = intersect(sh, h);
          if (x) hosts.add(x);
        }
    }
    if (!hosts.size) {
      ctx.warnings.push(
        `${ctx.resources.describe(vs)}: spec.hosts ${JSON.stringify(vs.spec.hosts ?? [])} match no host of the Gateway servers it is bound to (${JSON.stringify(mine.flatMap((s) => s.hosts))}), so istiod gives the gateway no route for it (requests get 404); make a host match the Gateway's spec.servers[].hosts`,
      );
      continue;
    }
    out.push({ vs, hosts: [...hosts] });
  }
  return out;
}

/**
 * Caveats for what istiod accepts but applies nowhere: a Gateway whose selector matches no gateway of
 * its cluster, and a VirtualService that names a Gateway not defined (in the clusters it applies to).
 */
export function gatewayBindingCaveats(ctx: TranslateContext, inCluster: (cluster: string) => Resources): string[] {
  const out: string[] = [];
  const ingress = ingressGatewaysOf(ctx.plan);
  const clusters = [
    ...new Set([ctx.plan.client.cluster, ...ctx.plan.workloads.map((w) => w.sidecar.cluster), ...ingress.map((g) => g.cluster)]),
  ];
  for (const cluster of clusters) {
    const res = inCluster(cluster);
    const pods = [
      ...ingress.filter((g) => g.cluster === cluster).map((g) => ({ name: g.name, labels: g.labels })),
      ...gatewaysOf(ctx.plan)
        .filter((g) => g.cluster === cluster)
        .map((g) => ({ name: g.name, labels: { ...EAST_WEST_LABELS, 'topology.istio.io/network': g.network } })),
    ];
    const defined = new Set(res.ofKind('Gateway').map((g) => `${nsOf(g)}/${g.name}`));
    for (const g of res.ofKind('Gateway')) {
      if (pods.some((p) => selects(g, p.labels))) continue;
      out.push(
        `${res.describe(g)}: spec.selector ${JSON.stringify(g.spec.selector ?? {})} selects no gateway in ${cluster} (expected the labels of one of: ${pods.map((p) => `${p.name} ${JSON.stringify(p.labels)}`).join(', ') || 'none -- the cluster has no ingress gateway'}), so istiod applies it to nothing; fix: add topology.clusters.${cluster}.ingressGateway or change spec.selector`,
      );
    }
    for (const vs of res.ofKind('VirtualService'))
      for (const ref of (vs.spec.gateways ?? []) as string[]) {
        if (ref === 'mesh' || defined.has(gatewayRef(vs, ref))) continue;
        out.push(
          `${res.describe(vs)}: spec.gateways names "${ref}" (${gatewayRef(vs, ref)}), which is no Gateway applied in ${cluster} (found: ${[...defined].join(', ') || 'none'}), so istiod binds these routes to nothing there; fix: name an existing Gateway as <namespace>/<name> or add it to resources`,
        );
      }
  }
  return out;
}
