/**
 * VirtualService HTTP routes -> Envoy routes of the host's virtual host (route.BuildHTTPRoutesForVirtualService,
 * translateRoute): one Envoy route per match condition, in order; a single destination becomes
 * `cluster`, several become `weighted_clusters`; retries and timeout per route (retry.ConvertPolicy);
 * fault abort/delay as the fault filter's per-route config (translateFault); header operations,
 * rewrite, mirrors, redirect, direct response and CORS in vs-actions.ts.
 */
import type { Json } from './resources.ts';
import { hostMatches } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { defaultOutboundRetry } from './istio-version.ts';
import { convertRetries } from './retry-policy.ts';
import { toEnvoyDuration } from '../util/duration.ts';
import { outboundClusterName } from './outbound-cluster.ts';
import { route } from './http-connection-manager.ts';
import {
  addHeaderOps,
  applyRewrite,
  corsPolicy,
  directResponseAction,
  headerOperations,
  mirrorPolicies,
  percentPerMillion,
  redirectAction,
} from './vs-actions.ts';

/** The clusters the client has, so a destination that names a missing subset can be reported. */
export type KnownClusters = Set<string>;

const FAULT = 'envoy.filters.http.fault';
const CORS = 'envoy.filters.http.cors';

const perMillion = percentPerMillion;

/** The routes of one host: from its VirtualService, else Istio's default route. */
export function virtualServiceRoutes(host: string, port: number, hosts: string[], known: KnownClusters, ctx: TranslateContext): Json[] {
  const vs = ctx.resources.virtualServiceFor(host);
  const cluster = outboundClusterName(port, host);
  const fallback = () => [route(cluster, '0s', defaultOutboundRetry(ctx.version), 'default', `${host}:${port}/*`)];
  if (!vs) return fallback();
  const label = ctx.resources.describe(vs);
  const out: Json[] = [];
  ((vs.spec.http ?? []) as Json[]).forEach((h, i) => {
    const matches: Json[] = h.match?.length ? h.match : [undefined];
    for (const m of matches)
      out.push(httpRoute(h, m, { host, port, hosts, known, vsName: String(vs.name ?? ''), where: `${label}: spec.http[${i}]` }, ctx));
  });
  if (!out.length) return fallback();
  return out;
}

export interface HttpRouteOptions {
  /** The VirtualService's host this route is built for (default destination) and the listener port. */
  host: string;
  port: number;
  /** Every host the proxy knows (FQDNs), to resolve short destination names. */
  hosts: string[];
  known: KnownClusters;
  vsName: string;
  /** Message prefix, e.g. `VirtualService reviews (file resources[1]): spec.http[0]`. */
  where: string;
}

/**
 * TranslateRoute for one HTTP route and one of its match conditions: redirect, direct response or a
 * route action (destinations, rewrite, mirror, retries, timeout), header operations, fault and CORS.
 */
export function httpRoute(h: Json, m: Json | undefined, o: HttpRouteOptions, ctx: TranslateContext): Json {
  const { port, where } = o;
  // istiod names the route after http[].name, and .match[].name when both are set; unnamed stays unnamed.
  const name = h.name ? (m?.name ? `${h.name}.${m.name}` : String(h.name)) : undefined;
  const ops = h.headers ? headerOperations(h.headers) : {};
  let r: Json;
  if (h.redirect) r = { ...(name ? { name } : {}), match: { prefix: '/' }, redirect: redirectAction(h.redirect, port) };
  else if (h.directResponse)
    r = { ...(name ? { name } : {}), match: { prefix: '/' }, direct_response: directResponseAction(h.directResponse) };
  else r = routeAction(h, name, ops.authority, o, ctx);
  if (m) r.match = envoyMatch(m, ctx, where);
  addHeaderOps(r, ops);
  if (r.route) destinationHeaders(h, r);
  r.decorator = { operation: routeOperation(r, o.vsName, port) };
  if (h.fault || h.corsPolicy) r.typed_per_filter_config = {};
  if (h.fault) r.typed_per_filter_config[FAULT] = envoyFault(h.fault, ctx, where);
  if (h.corsPolicy) r.typed_per_filter_config[CORS] = corsPolicy(h.corsPolicy);
  return r;
}

/** applyHTTPRouteDestination: timeout, rewrite, mirrors, destinations, retries. */
function routeAction(
  h: Json,
  name: string | undefined,
  headerAuthority: string | undefined,
  o: HttpRouteOptions,
  ctx: TranslateContext,
): Json {
  const { where } = o;
  const retry = h.retries ? convertRetries(h.retries, ctx, `${where}.retries`) : defaultOutboundRetry(ctx.version);
  const timeout = h.timeout ? toEnvoyDuration(h.timeout) : '0s';
  const target = destinations(h, o, ctx);
  const r = route(target.cluster ?? outboundClusterName(o.port, o.host), timeout, retry, name, '');
  if (target.weighted) {
    delete r.route.cluster;
    r.route.weighted_clusters = { clusters: target.weighted };
  }
  applyRewrite(r.route, h.rewrite, headerAuthority);
  const mirrors = mirrorPolicies(h, (d) => clusterFor(d, o, ctx, `${where}.mirror`), ctx);
  if (mirrors.length) r.route.request_mirror_policies = mirrors;
  return r;
}

/** processDestination / processWeightedDestination: a destination's own header operations. */
function destinationHeaders(h: Json, r: Json): void {
  const dests: Json[] = h.route ?? [];
  if (dests.length === 1 && dests[0].headers) {
    const ops = headerOperations(dests[0].headers);
    addHeaderOps(r, ops);
    // The route-level rewrite wins; a destination's authority only fills in.
    if (ops.authority && r.route.host_rewrite_literal === undefined) r.route.host_rewrite_literal = ops.authority;
  } else if (dests.length > 1) {
    const weighted = dests.filter((d) => Number(d.weight ?? 0));
    weighted.forEach((d, j) => {
      if (!d.headers) return;
      const ops = headerOperations(d.headers);
      const c = r.route.weighted_clusters.clusters[j];
      addHeaderOps(c, ops);
      if (ops.authority) c.host_rewrite_literal = ops.authority;
    });
  }
}

/**
 * GetDestinationCluster: the destination's port, else the service's (when it has one), else the
 * listener's; short names resolve to the proxy's FQDNs.
 */
function clusterFor(d: Json, o: HttpRouteOptions, ctx: TranslateContext, where: string): string {
  const want = String(d?.host ?? o.host);
  const fqdn = o.hosts.find((x) => hostMatches(want, x)) ?? want;
  const servicePort = [...o.known].map((c) => c.split('|')).find((p) => p[0] === 'outbound' && p[2] === '' && p[3] === fqdn)?.[1];
  const c = outboundClusterName(d?.port?.number ?? (servicePort ? Number(servicePort) : o.port), fqdn, d?.subset ?? '');
  if (!o.known.has(c)) {
    ctx.warnings.push(
      `${where}: no cluster ${c} (${d?.subset ? `no DestinationRule subset "${d.subset}" for ${fqdn}` : `no service ${fqdn}`}), so Envoy answers 503 NC to requests routed there; define the subset or fix the host`,
    );
  }
  return c;
}

/** GetRouteOperation: `<host>:<port><path>` for one destination cluster, else `<VirtualService name>:<port><path>`. */
function routeOperation(r: Json, vsName: string, port: number): string {
  const m = r.match ?? {};
  const path = m.prefix !== undefined ? `${m.prefix}*` : m.path !== undefined ? m.path : m.safe_regex ? m.safe_regex.regex : '/*';
  const c = /^outbound\|(\d+)\|[^|]*\|(.+)$/.exec(String(r.route?.cluster ?? ''));
  return c ? `${c[2]}:${c[1]}${path}` : `${vsName}:${port}${path}`;
}

function destinations(h: Json, o: HttpRouteOptions, ctx: TranslateContext): { cluster?: string; weighted?: Json[] } {
  const dests: Json[] = h.route ?? [];
  if (!dests.length) return {};
  const name = (d: Json, j: number) => clusterFor(d.destination, o, ctx, `${o.where}.route[${j}]`);
  if (dests.length === 1) return { cluster: name(dests[0], 0) };
  // istiod leaves out zero-weight destinations when there are several.
  return { weighted: dests.flatMap((d, j) => (Number(d.weight ?? 0) ? [{ name: name(d, j), weight: Number(d.weight) }] : [])) };
}

/** HTTPMatchRequest -> RouteMatch (translateRouteMatch). */
function envoyMatch(m: Json, ctx: TranslateContext, where: string): Json {
  const out: Json = {};
  const uri = m.uri ?? {};
  if (uri.exact !== undefined) out.path = uri.exact;
  else if (uri.regex !== undefined) out.safe_regex = { regex: uri.regex };
  else out.prefix = uri.prefix ?? '/';
  // istiod always sets it (TranslateRouteMatch), true unless ignoreUriCase.
  out.case_sensitive = !m.ignoreUriCase;
  const headers: Json[] = [];
  const stringMatch = (v: Json) =>
    v.exact !== undefined ? { exact: v.exact } : v.prefix !== undefined ? { prefix: v.prefix } : { safe_regex: { regex: v.regex } };
  // Header matches sorted by name, then :method and :authority (TranslateRouteMatch's order).
  for (const [k, v] of Object.entries((m.headers ?? {}) as Record<string, Json>).sort(([a], [b]) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : 1,
  ))
    headers.push({ name: k.toLowerCase(), string_match: stringMatch(v) });
  if (m.method) headers.push({ name: ':method', string_match: stringMatch(m.method) });
  if (m.authority) headers.push({ name: ':authority', string_match: stringMatch(m.authority) });
  if (headers.length) out.headers = headers;
  for (const f of ['queryParams', 'sourceLabels', 'port', 'gateways', 'withoutHeaders', 'sourceNamespace', 'scheme'])
    if (m[f] !== undefined) ctx.warnings.push(`${where}.match.${f} is not modelled by this harness; the route matches without it`);
  return out;
}

/** HTTPFaultInjection -> HTTPFault; a missing percentage faults no request, as in istiod. */
function envoyFault(f: Json, ctx: TranslateContext, where: string): Json {
  const out: Json = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' };
  if (f.delay) {
    if (!f.delay.percentage)
      ctx.warnings.push(`${where}.fault.delay has no percentage, so istiod delays no request; add percentage: { value: 100 }`);
    out.delay = { fixed_delay: toEnvoyDuration(f.delay.fixedDelay ?? '0s'), percentage: perMillion(f.delay.percentage) };
  }
  if (f.abort) {
    if (!f.abort.percentage)
      ctx.warnings.push(`${where}.fault.abort has no percentage, so istiod aborts no request; add percentage: { value: 100 }`);
    out.abort = { http_status: f.abort.httpStatus, percentage: perMillion(f.abort.percentage) };
  }
  return out;
}
