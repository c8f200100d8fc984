/**
 * An ingress gateway (istio-ingressgateway): a Router proxy whose listeners come from the Istio
 * `Gateway` resources selecting its labels (MergeGateways), one HTTP listener per server port with
 * the route config `http.<port>`; its virtual hosts are the hosts of the VirtualServices bound to
 * those Gateways (`spec.gateways: [ns/name]`) that the servers' hosts admit, and its routes are the
 * sidecars' VirtualService routes (vs-routes.ts). Like istiod, it gets an outbound cluster for
 * every service it knows (and per subset), dialled with auto-mTLS to the sidecars.
 */
import type { TranslateContext } from './context.ts';
import type { IngressGatewayPlan } from './plan.ts';
import { Resources, type IstioResource, type Json } from './resources.ts';
import { bootstrapBase, socketAddress } from './bootstrap.ts';
import { httpConnectionManager, TRANSPORT_SOCKET_CONNECT_TIMEOUT } from './http-connection-manager.ts';
import { serviceView } from './endpoints.ts';
import { subsetsOf } from './subsets.ts';
import { buildOutboundCluster, outboundClusterName } from './outbound-cluster.ts';
import { virtualServiceRoutes } from './vs-routes.ts';
import { portlessVirtualHosts } from './istio-version.ts';
import { gatewayServers, gatewayVirtualServices, type GatewayServer } from './gateway-binding.ts';

/** The hosts the gateway's istiod knows: its cluster's Services (every cluster's with multi-primary), then ServiceEntry hosts. */
function knownHosts(gw: IngressGatewayPlan, ctx: TranslateContext): string[] {
  const hosts: string[] = [];
  for (const w of ctx.plan.workloads)
    if ((ctx.plan.discovery === 'multi-primary' || w.sidecar.cluster === gw.cluster) && !hosts.includes(w.host)) hosts.push(w.host);
  for (const se of ctx.resources.ofKind('ServiceEntry'))
    for (const h of se.spec.hosts ?? []) if (!hosts.includes(h) && !String(h).includes('*')) hosts.push(h);
  return hosts;
}

/** A view of the resources in which `vs` is the only VirtualService, so vs-routes.ts translates exactly it. */
function onlyVirtualService(resources: Resources, vs: IstioResource): Resources {
  const view = Object.create(Resources.prototype) as Resources;
  // Without its `gateways`, so that the sidecar-side lookup (virtualServiceFor) takes it.
  const unbound = { ...vs, spec: { ...vs.spec, gateways: undefined } };
  Object.assign(view, { source: resources.source, all: [...resources.all.filter((r) => r.kind !== 'VirtualService'), unbound] });
  return view;
}

export function ingressGatewayBootstrap(ctx: TranslateContext, gw: IngressGatewayPlan): Json {
  const b = bootstrapBase(gw, 'ingress-gateway', ctx.version.text);
  const views = knownHosts(gw, ctx)
    .map((h) => serviceView(h, gw.cluster, ctx))
    .filter((v) => v !== undefined);
  const known = new Set<string>();
  for (const view of views) {
    for (const subset of [undefined, ...subsetsOf(ctx.resources.destinationRule(view.host))]) {
      const name = outboundClusterName(view.port, view.host, subset?.name);
      known.add(name);
      b.static_resources.clusters.push(buildOutboundCluster(view, gw, ctx, { name, sniDnat: false, subset }).cluster);
    }
  }
  const hostNames = views.map((v) => v.host);
  const portless = portlessVirtualHosts(ctx.version);

  const byPort = new Map<number, GatewayServer[]>();
  for (const s of gatewayServers(gw, ctx)) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
  for (const [port, servers] of [...byPort].sort(([a], [b]) => a - b)) {
    const virtualHosts = virtualHostsFor(ctx, gw, port, servers, { hostNames, known, portless });
    b.static_resources.listeners.push({
      name: `${gw.ip}_${port}`,
      address: socketAddress(gw.ip, port),
      filter_chains: [
        {
          transport_socket_connect_timeout: TRANSPORT_SOCKET_CONNECT_TIMEOUT,
          filters: [
            httpConnectionManager({
              statPrefix: `outbound_0_0_0_0_${port}`,
              inbound: false,
              accessLogPath: gw.files.accessLog,
              edge: true,
              routeConfig: {
                name: `http.${port}`,
                validate_clusters: false,
                ...(portless ? { ignore_port_in_host_matching: true, max_direct_response_body_size_bytes: 1048576 } : {}),
                virtual_hosts: virtualHosts,
              },
            }),
          ],
        },
      ],
    });
  }
  return b;
}

/** The virtual hosts of one listener port: one per host a bound VirtualService and the port's servers both admit. */
function virtualHostsFor(
  ctx: TranslateContext,
  gw: IngressGatewayPlan,
  port: number,
  servers: GatewayServer[],
  o: { hostNames: string[]; known: Set<string>; portless: boolean },
): Json[] {
  const { hostNames, known, portless } = o;
  const virtualHosts: Json[] = [];
  const redirect = servers.some((x) => x.httpsRedirect);
  if (redirect)
    ctx.warnings.push(
      `${gw.name}: port ${port} has tls.httpsRedirect: its virtual hosts answer plain HTTP with a redirect to https (require_tls: ALL), but the redirect-only virtual hosts istiod adds for server hosts no VirtualService covers are not generated`,
    );
  for (const { vs, hosts } of gatewayVirtualServices(servers, ctx)) {
    const vsCtx: TranslateContext = { ...ctx, resources: onlyVirtualService(ctx.resources, vs) };
    for (const host of hosts) {
      const routes = virtualServiceRoutes(host, port, hostNames, known, vsCtx);
      // Current istiod ignores the port in host matching (checked with `spillover mesh diff`); before
      // that era the port variant is spelled out (not checked: the oracle speaks for current Istio).
      const domains = portless ? [host] : [host, `${host}:*`];
      // Several VirtualServices for one host: istiod merges their routes into one virtual host, in order.
      const same = virtualHosts.find((v) => v.name === `${host}:${port}`);
      if (same) {
        same.routes.push(...routes);
        continue;
      }
      virtualHosts.push({
        name: `${host}:${port}`,
        domains,
        routes,
        include_request_attempt_count: true,
        ...(redirect ? { require_tls: 'ALL' } : {}),
      });
    }
  }
  return virtualHosts;
}
