/**
 * The client's sidecar in cluster-1: where the load enters the mesh. One outbound HTTP listener with
 * the route istiod generates for the federated host, and the outbound cluster behind it.
 */
import type { MeshPlan, WorkloadPlan } from './plan.ts';
import type { TranslateContext } from './context.ts';
import type { Json } from './resources.ts';
import { bootstrapBase, socketAddress, statPrefix } from './bootstrap.ts';
import { httpConnectionManager, route, TRANSPORT_SOCKET_CONNECT_TIMEOUT } from './http-connection-manager.ts';
import { portlessVirtualHosts } from './istio-version.ts';
import { outboundRouteTraffic } from './retry-policy.ts';
import { serviceView } from './endpoints.ts';
import { buildOutboundCluster, outboundClusterName, type BuiltCluster } from './outbound-cluster.ts';
import { SpilloverError } from '../errors.ts';

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
    const names = [host, `${host}.`];
    if (m && clientNamespace === m[2]) names.push(m[1]);
    if (m) names.push(`${m[1]}.${m[2]}.svc`, `${m[1]}.${m[2]}`);
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

export function clientBootstrap(ctx: TranslateContext): { bootstrap: Json; built: BuiltCluster; clusterName: string; authority: string } {
  const { plan } = ctx;
  const target = federatedWorkload(plan);
  const view = serviceView(target.host, plan.client.cluster, ctx)!;
  const clusterName = outboundClusterName(view.port, view.host);
  const built = buildOutboundCluster(view, plan.client, ctx, { name: clusterName, sniDnat: false });
  const traffic = outboundRouteTraffic(view.host, ctx);

  const b = bootstrapBase(plan.client, 'client', ctx.version.text);
  const out = plan.client.outbound;
  const portless = portlessVirtualHosts(ctx.version);
  b.static_resources.listeners.push({
    name: `${out.ip}_${out.port}`,
    address: socketAddress(out.ip, out.port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        transport_socket_connect_timeout: TRANSPORT_SOCKET_CONNECT_TIMEOUT,
        filters: [
          httpConnectionManager({
            statPrefix: statPrefix('outbound', out.ip, out.port),
            inbound: false,
            accessLogPath: plan.client.files.accessLog,
            routeConfig: {
              name: String(view.port),
              validate_clusters: false,
              ...(portless ? { ignore_port_in_host_matching: true, max_direct_response_body_size_bytes: 1048576 } : {}),
              virtual_hosts: [
                {
                  name: `${view.host}:${view.port}`,
                  domains: virtualHostDomains(view.host, view.port, namespaceOf(plan.client.identity.spiffe), portless),
                  routes: [route(clusterName, traffic.timeout, traffic.retry_policy, traffic.name, `${view.host}:${view.port}/*`)],
                  include_request_attempt_count: true,
                },
              ],
            },
          }),
        ],
      },
    ],
  });
  b.static_resources.clusters.push(built.cluster);
  return { bootstrap: b, built, clusterName, authority: view.host };
}
