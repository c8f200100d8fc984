/**
 * The client's sidecar in cluster-1: where the load enters the mesh. One outbound HTTP listener with
 * the route istiod generates for the federated host, and the outbound cluster behind it.
 */
import type { MeshPlan, WorkloadPlan } from './plan.ts';
import type { TranslateContext } from './context.ts';
import type { Json } from './resources.ts';
import { bootstrapBase, socketAddress, statPrefix } from './bootstrap.ts';
import { httpConnectionManager, TRANSPORT_SOCKET_CONNECT_TIMEOUT } from './http-connection-manager.ts';
import { portlessVirtualHosts } from './istio-version.ts';
import { virtualServiceRoutes } from './vs-routes.ts';
import { subsetsOf } from './subsets.ts';
import { serviceView } from './endpoints.ts';
import { buildOutboundCluster, outboundClusterName, type BuiltCluster } from './outbound-cluster.ts';
import { SpilloverError } from '../errors.ts';
import { egressScope, type EgressScope } from './sidecar-scope.ts';
import { blackHoleCluster, catchAllVirtualHost, hiddenHostWarnings, passthroughCluster, tcpFallback } from './egress-fallback.ts';
import { localityLabels } from './locality.ts';

const namespaceOf = (spiffe: string) => /\/ns\/([^/]+)\//.exec(spiffe)?.[1];

/**
 * generateVirtualHostDomains: the FQDN, and the shorter names a pod resolves through its DNS search
 * path (`a.istio.svc`, `a.istio`, and `a` from the same namespace), each also with `:port`.
 */
export function virtualHostDomains(host: string, port: number, clientNamespace: string | undefined, portlessHosts = false): string[] {
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(host);
  if (portlessHosts) {
    // Current istiod (checked against its own generator, `spillover mesh diff`): no `:port` variants
    // (the route config ignores the port instead), the FQDN also with a trailing dot, the short name
    // before the partial ones.
    // generateAltVirtualHostsForKubernetesService: another namespace gets `a.ns` before `a.ns.svc`.
    const names = [host, `${host}.`];
    if (m && clientNamespace === m[2]) names.push(m[1], `${m[1]}.${m[2]}.svc`, `${m[1]}.${m[2]}`);
    else if (m) names.push(`${m[1]}.${m[2]}`, `${m[1]}.${m[2]}.svc`);
    return names;
  }
  const names = [host];
  if (m) {
    names.push(`${m[1]}.${m[2]}.svc`, `${m[1]}.${m[2]}`);
    if (clientNamespace === m[2]) names.push(m[1]);
  }
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** The federated host: the service the client's load is aimed at (the workload of the client's cluster). */
export function federatedWorkload(plan: MeshPlan): WorkloadPlan {
  const w = plan.workloads.find((x) => x.sidecar.cluster === plan.client.cluster);
  if (!w) {
    throw new SpilloverError({
      path: 'topology',
      message: "no service runs in the client's cluster, so there is nothing for the load to call",
      expected: `a workload whose sidecar.cluster is "${plan.client.cluster}"`,
      found: JSON.stringify(plan.workloads.map((x) => `${x.service}@${x.sidecar.cluster}`)),
      fix: 'place service A in the same cluster as the client',
    });
  }
  return w;
}

export interface ClientCluster {
  name: string;
  host: string;
  built: BuiltCluster;
}

/**
 * The hosts the client's istiod knows, the federated one first: the Services of the client's cluster
 * (every cluster's with multi-primary discovery), then hosts only ServiceEntries define.
 */
function clientHosts(ctx: TranslateContext): string[] {
  const { plan } = ctx;
  const first =
    plan.discovery === 'multi-primary'
      ? (plan.workloads.find((x) => x.sidecar.cluster === plan.client.cluster) ?? plan.workloads[0])
      : federatedWorkload(plan);
  const hosts = [first.host];
  for (const w of plan.workloads)
    if ((plan.discovery === 'multi-primary' || w.sidecar.cluster === plan.client.cluster) && !hosts.includes(w.host)) hosts.push(w.host);
  for (const se of ctx.resources.ofKind('ServiceEntry'))
    for (const h of se.spec.hosts ?? []) if (!hosts.includes(h) && !String(h).includes('*')) hosts.push(h);
  return hosts;
}

export function clientBootstrap(ctx: TranslateContext): {
  bootstrap: Json;
  built: BuiltCluster;
  clusterName: string;
  authority: string;
  clusters: ClientCluster[];
} {
  const { plan } = ctx;
  const hosts = clientHosts(ctx);
  const portless = portlessVirtualHosts(ctx.version);
  const clusters: ClientCluster[] = [];
  const all = hosts.map((h) => serviceView(h, plan.client.cluster, ctx)).filter((v) => v !== undefined);
  // Sidecar egress scoping: only the imported hosts get clusters and virtual hosts (sidecar-scope.ts).
  const clientNs = namespaceOf(plan.client.identity.spiffe) ?? 'default';
  const scope = egressScope(ctx.resources, clientNs, clientLabels(plan));
  const views = all.filter((v) => scope.imports(v.host, v.namespace, v.port));
  const hidden = all.filter((v) => !views.includes(v));
  for (const view of views) {
    // The host's cluster, and one per subset of its DestinationRule (outbound|<port>|<subset>|<host>).
    for (const subset of [undefined, ...subsetsOf(ctx.resources.destinationRule(view.host))]) {
      const name = outboundClusterName(view.port, view.host, subset?.name);
      clusters.push({ name, host: view.host, built: buildOutboundCluster(view, plan.client, ctx, { name, sniDnat: false, subset }) });
    }
  }
  const known = new Set(clusters.map((c) => c.name));
  const hostNames = views.map((v) => v.host);
  const virtualHosts = views.map((view) => {
    // The study's single host keeps its single default (or VirtualService) route exactly as before.
    const routes = virtualServiceRoutes(view.host, view.port, hostNames, known, ctx);
    return {
      name: `${view.host}:${view.port}`,
      domains: virtualHostDomains(view.host, view.port, namespaceOf(plan.client.identity.spiffe), portless),
      routes,
      include_request_attempt_count: true,
    };
  });

  // A route config exists when some imported service is left; else the port has no HTTP listener.
  const http = views.length > 0;
  const extraClusters: Json[] = [];
  if (hidden.length) {
    ctx.warnings.push(...hiddenHostWarnings(hidden, scope, http, ctx));
    if (scope.outboundTrafficPolicy === 'ALLOW_ANY') extraClusters.push(passthroughCluster(hidden, ctx));
    else if (!http) extraClusters.push(blackHoleCluster());
    if (http) virtualHosts.push(catchAllVirtualHost(scope.outboundTrafficPolicy));
  }

  const b = bootstrapBase(plan.client, 'client', ctx.version.text);
  b.static_resources.listeners.push(outboundListener(plan, views, virtualHosts, portless, scope.outboundTrafficPolicy));
  for (const c of clusters) b.static_resources.clusters.push(c.built.cluster);
  b.static_resources.clusters.push(...extraClusters);
  const entry = federatedHost(ctx, all);
  const main = clusters.find((c) => c.host === entry.host && c.name === outboundClusterName(entry.port, entry.host)) ?? clusters[0];
  return {
    bootstrap: b,
    built: main?.built ?? { cluster: {}, endpoints: [] },
    clusterName: main?.name ?? outboundClusterName(entry.port, entry.host),
    authority: entry.host,
    clusters,
  };
}

/** The client's one outbound listener: HTTP routes while some imported service is left, else Sidecar's TCP fallback. */
function outboundListener(
  plan: TranslateContext['plan'],
  views: Array<{ port: number }>,
  virtualHosts: Json[],
  portless: boolean,
  policy: EgressScope['outboundTrafficPolicy'],
): Json {
  const http = views.length > 0;
  const out = plan.client.outbound;
  const prefix = statPrefix('outbound', out.ip, out.port);
  return {
    name: `${out.ip}_${out.port}`,
    address: socketAddress(out.ip, out.port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        transport_socket_connect_timeout: TRANSPORT_SOCKET_CONNECT_TIMEOUT,
        filters: [
          http
            ? httpConnectionManager({
                statPrefix: prefix,
                inbound: false,
                accessLogPath: plan.client.files.accessLog,
                routeConfig: {
                  name: String(views[0].port),
                  validate_clusters: false,
                  ...(portless ? { ignore_port_in_host_matching: true, max_direct_response_body_size_bytes: 1048576 } : {}),
                  virtual_hosts: virtualHosts,
                },
              })
            : tcpFallback(policy, prefix),
        ],
      },
    ],
  };
}

/** The host the load calls: the first one the client's istiod knows, imported by the Sidecar or not. */
function federatedHost(ctx: TranslateContext, all: Array<{ host: string; port: number }>): { host: string; port: number } {
  if (all[0]) return all[0];
  const w = federatedWorkload(ctx.plan);
  return { host: w.host, port: w.port };
}

/** The client's labels as istiod sees them (the oracle sends the same; topology labels in the general topology). */
function clientLabels(plan: MeshPlan): Record<string, string> {
  const c = plan.client;
  return plan.gateways
    ? { app: 'client', ...localityLabels(c.locality), 'topology.istio.io/cluster': c.cluster, 'topology.istio.io/network': c.network }
    : { app: 'client' };
}
