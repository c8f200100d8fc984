/**
 * `--control-plane istiod`: Envoy runs exactly the clusters, listeners and routes istiod's own
 * generator made (tools/istiod-config), turned into a static bootstrap with only the changes a
 * loopback machine without istio-agent and iptables forces -- the same ones `spillover mesh diff`
 * excuses (known-differences.ts):
 *   - SDS secrets "default"/"ROOTCA" -> the run CA's files; EDS -> STATIC (istiod's own EDS answer);
 *     RDS -> the route config inline.
 *   - no iptables: the client's HTTP listener is bound to its address instead of 0.0.0.0:<port>
 *     behind virtualOutbound; the sidecar's inbound chains for the service port are bound to the pod
 *     address (no original_dst, no destination_port match) and its inbound cluster goes STATIC to the
 *     app; endpoints name the sidecar's inbound port instead of the pod port.
 *   - catch-all listeners/clusters no traffic here reaches (virtualOutbound, passthrough, blackhole) are left out.
 *   - the harness's instrumentation is added: its access logs and per-endpoint stats.
 * Pure: the runner fetches the xDS and writes the files.
 */
import { clientsOfPlan, gatewaysOf, type MeshConfig, type MeshPlan, type ProxyCommon } from '../mesh/plan.ts';
import type { Json } from '../mesh/resources.ts';
import { bootstrapBase, socketAddress } from '../mesh/bootstrap.ts';
import { fileAccessLog, HTTP_ACCESS_LOG_FORMAT, TCP_ACCESS_LOG_FORMAT } from '../mesh/access-log.ts';
import type { IstiodXds } from './istiod-request.ts';
import { proxiesOf } from './diff.ts';
import { ORACLE_ISTIO, oracleComparable } from './era.ts';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const SKIPPED_CLUSTERS = /^(BlackHoleCluster|PassthroughCluster|InboundPassthroughCluster)$/;

/** The builtin MeshConfig with every bootstrap replaced by istiod's configuration of that proxy. */
export function istiodMeshConfig(plan: MeshPlan, builtin: MeshConfig, xds: Record<string, IstiodXds>, istio: string): MeshConfig {
  const bootstraps: MeshConfig['bootstraps'] = {};
  for (const p of proxiesOf(plan)) {
    const x = xds[p.name];
    if (!x) throw new Error(`istiod generated nothing for proxy ${p.name}`);
    bootstraps[p.name] = proxyBootstrap(plan, p, x);
  }
  const endpoints = { ...builtin.endpoints };
  const cla = (xds[plan.client.name].endpoints ?? []).find((e: Json) => e.cluster_name === builtin.clientCluster);
  for (const g of cla?.endpoints ?? [])
    for (const e of g.lb_endpoints ?? []) {
      const key = rewriteAddress(plan, addr(e));
      if (endpoints[key]) endpoints[key] = { ...endpoints[key], priority: g.priority ?? 0 };
    }
  return {
    ...builtin,
    bootstraps,
    endpoints,
    warnings: [
      `the Envoy configuration is istiod's own (Istio ${ORACLE_ISTIO}, istio.io/istio ${istio}, tools/istiod-config), not src/mesh's` +
        (oracleComparable(plan.istioVersion).ok
          ? ''
          : `: the experiment's Istio ${plan.istioVersion} semantics are not applied (they are src/mesh's)`) +
        "; src/mesh's caveats follow",
      ...builtin.warnings,
    ],
  };
}

function proxyBootstrap(plan: MeshPlan, p: ProxyCommon, x: IstiodXds): Json {
  const role = clientsOfPlan(plan).some((c) => c.name === p.name)
    ? 'client'
    : gatewaysOf(plan).some((g) => g.name === p.name)
      ? 'gateway'
      : p.name;
  const b = bootstrapBase(p, role, plan.istioVersion);
  const routes = new Map<string, Json>((x.routes ?? []).map((r: Json) => [r.name, r]));
  const eds = new Map<string, Json>((x.endpoints ?? []).map((e: Json) => [e.cluster_name, e]));
  const w = plan.workloads.find((y) => y.sidecar.name === p.name);

  for (const c0 of x.clusters ?? []) {
    if (SKIPPED_CLUSTERS.test(c0.name)) continue;
    const c = withFiles(structuredClone(c0), p);
    if (c.type === 'EDS') {
      delete c.eds_cluster_config;
      c.type = 'STATIC';
      c.load_assignment = rewriteEndpoints(plan, eds.get(c.name) ?? { cluster_name: c.name, endpoints: [] });
      c.track_cluster_stats = { per_endpoint_stats: true };
    } else if (c.type === 'ORIGINAL_DST' && w && /^inbound\|/.test(c.name)) {
      for (const f of ['upstream_bind_config', 'cleanup_interval', 'lb_policy']) delete c[f];
      c.type = 'STATIC';
      c.load_assignment = {
        cluster_name: c.name,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(w.app.ip, w.app.port) } }] }],
      };
    } else continue;
    b.static_resources.clusters.push(c);
  }

  for (const l0 of x.listeners ?? []) {
    const l = withFiles(structuredClone(l0), p);
    const bound = bindListener(plan, p, l, routes);
    if (bound) b.static_resources.listeners.push(bound);
  }
  return b;
}

/** The listener as this machine can serve it, or undefined for the ones no traffic here reaches. */
function bindListener(plan: MeshPlan, p: ProxyCommon, l: Json, routes: Map<string, Json>): Json | undefined {
  const w = plan.workloads.find((y) => y.sidecar.name === p.name);
  const port = l.address?.socket_address?.port_value;
  const client = clientsOfPlan(plan).find((c) => c.name === p.name);
  if (client) {
    const target = plan.workloads.find((y) => y.sidecar.cluster === client.cluster);
    if (!target || port !== target.port || l.name === 'virtualOutbound') return undefined;
    const chain = (l.filter_chains ?? []).find((fc: Json) => hcmOf(fc));
    if (!chain) return undefined;
    delete chain.filter_chain_match;
    return finish(l, p, client.outbound, [chain], routes, 'OUTBOUND');
  }
  if (w && l.name === 'virtualInbound') {
    const chains = (l.filter_chains ?? []).filter((fc: Json) => fc.filter_chain_match?.destination_port === w.app.port);
    for (const fc of chains) delete fc.filter_chain_match.destination_port;
    // istiod switches the TLS inspector off for traffic addressed to 15006 itself (with iptables, mesh
    // traffic arrives with its original port); here all of it is addressed to 15006.
    l.listener_filters = (l.listener_filters ?? [])
      .filter((f: Json) => f.name !== 'envoy.filters.listener.original_dst')
      .map((f: Json) => (f.name === 'envoy.filters.listener.tls_inspector' ? { ...f, filter_disabled: undefined } : f));
    return finish(l, p, w.sidecar.inbound, chains, routes, 'INBOUND');
  }
  const gw = gatewaysOf(plan).find((g) => g.name === p.name);
  if (gw && port === gw.listener.port) return finish(l, p, gw.listener, l.filter_chains ?? [], routes, undefined);
  return undefined;
}

function finish(
  l: Json,
  p: ProxyCommon,
  at: { ip: string; port: number },
  chains: Json[],
  routes: Map<string, Json>,
  direction: string | undefined,
): Json {
  const out: Json = { ...l, name: `${at.ip}_${at.port}`, address: socketAddress(at.ip, at.port), filter_chains: chains };
  for (const f of ['bind_to_port', 'use_original_dst', 'default_filter_chain']) delete out[f];
  if (direction) out.traffic_direction = direction;
  for (const fc of chains) {
    for (const f of fc.filters ?? []) {
      const tc = f.typed_config ?? {};
      if (tc['@type'] === HCM) {
        if (tc.rds) {
          tc.route_config = routes.get(tc.rds.route_config_name) ?? { name: tc.rds.route_config_name };
          delete tc.rds;
        }
        tc.access_log = [...(tc.access_log ?? []), fileAccessLog(p.files.accessLog, HTTP_ACCESS_LOG_FORMAT)];
      } else if (tc['@type'] === TCP_PROXY) {
        tc.access_log = [...(tc.access_log ?? []), fileAccessLog(p.files.accessLog, TCP_ACCESS_LOG_FORMAT)];
      }
    }
  }
  return out;
}

const hcmOf = (fc: Json) => (fc.filters ?? []).find((f: Json) => f.typed_config?.['@type'] === HCM);
const addr = (e: Json) => `${e.endpoint?.address?.socket_address?.address}:${e.endpoint?.address?.socket_address?.port_value}`;

/** A pod's endpoint (pod:<app port>) is its sidecar's inbound listener here: no iptables. */
function rewriteAddress(plan: MeshPlan, a: string): string {
  const w = plan.workloads.find((y) => a === `${y.app.ip}:${y.app.port}`);
  return w ? `${w.sidecar.inbound.ip}:${w.sidecar.inbound.port}` : a;
}

function rewriteEndpoints(plan: MeshPlan, cla: Json): Json {
  const out = structuredClone(cla);
  for (const g of out.endpoints ?? [])
    for (const e of g.lb_endpoints ?? []) {
      const [ip, port] = rewriteAddress(plan, addr(e)).split(':');
      e.endpoint.address = socketAddress(ip, Number(port));
    }
  return out;
}

/** Every SDS reference of a transport socket -> the proxy's certificate files (no istio-agent here). */
function withFiles(x: Json, p: ProxyCommon): Json {
  if (Array.isArray(x)) return x.map((y) => withFiles(y, p));
  if (!x || typeof x !== 'object') return x;
  for (const k of Object.keys(x)) x[k] = withFiles(x[k], p);
  if (x.tls_certificate_sds_secret_configs) {
    delete x.tls_certificate_sds_secret_configs;
    x.tls_certificates = [{ certificate_chain: { filename: p.identity.certChain }, private_key: { filename: p.identity.privateKey } }];
  }
  if (x.combined_validation_context) {
    const { default_validation_context = {} } = x.combined_validation_context;
    delete x.combined_validation_context;
    x.validation_context = { ...default_validation_context, trusted_ca: { filename: p.identity.rootCert } };
  }
  return x;
}
