/**
 * VirtualService HTTP routes -> Envoy routes of the host's virtual host (route.BuildHTTPRoutesForVirtualService,
 * translateRoute): one Envoy route per match condition, in order; a single destination becomes
 * `cluster`, several become `weighted_clusters`; retries and timeout per route (retry.ConvertPolicy);
 * fault abort/delay as the fault filter's per-route config (translateFault).
 */
import type { Json } from './resources.ts';
import { hostMatches } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { defaultOutboundRetry } from './istio-version.ts';
import { convertRetries } from './retry-policy.ts';
import { toEnvoyDuration } from '../util/duration.ts';
import { outboundClusterName } from './outbound-cluster.ts';
import { route } from './http-connection-manager.ts';

/** The clusters the client has, so a destination that names a missing subset can be reported. */
export type KnownClusters = Set<string>;

const FAULT = 'envoy.filters.http.fault';

/** istiod's translatePercentToFractionalPercent: a percentage as parts per million. */
const perMillion = (p: Json) => ({ numerator: Math.round(Number(p?.value ?? 0) * 10000), denominator: 'MILLION' });

/** The routes of one host: from its VirtualService, else Istio's default route. */
export function virtualServiceRoutes(host: string, port: number, hosts: string[], known: KnownClusters, ctx: TranslateContext): Json[] {
  const vs = ctx.resources.virtualServiceFor(host);
  const cluster = outboundClusterName(port, host);
  const fallback = () => [route(cluster, '0s', defaultOutboundRetry(ctx.version), 'default', `${host}:${port}/*`)];
  if (!vs) return fallback();
  const label = ctx.resources.describe(vs);
  const out: Json[] = [];
  ((vs.spec.http ?? []) as Json[]).forEach((h, i) => {
    const where = `${label}: spec.http[${i}]`;
    const retry = h.retries ? convertRetries(h.retries, ctx, `${where}.retries`) : defaultOutboundRetry(ctx.version);
    const timeout = h.timeout ? toEnvoyDuration(h.timeout) : '0s';
    const target = destinations(h, host, port, hosts, known, ctx, where);
    const matches: Json[] = h.match?.length ? h.match : [undefined];
    for (const m of matches) {
      // istiod names the route after http[].name, and .match[].name when both are set; unnamed stays unnamed.
      const name = h.name ? (m?.name ? `${h.name}.${m.name}` : String(h.name)) : undefined;
      const r = route(target.cluster ?? cluster, timeout, retry, name, '');
      if (target.weighted) {
        delete r.route.cluster;
        r.route.weighted_clusters = { clusters: target.weighted };
      }
      if (m) r.match = envoyMatch(m, ctx, where);
      r.decorator = { operation: routeOperation(r, String(vs.name ?? ''), port) };
      if (h.fault) r.typed_per_filter_config = { [FAULT]: envoyFault(h.fault, ctx, where) };
      for (const f of ['mirror', 'mirrors', 'rewrite', 'redirect', 'headers', 'corsPolicy', 'directResponse'])
        if (h[f] !== undefined) ctx.warnings.push(`${where}.${f} is not modelled by this harness; the route is generated without it`);
      out.push(r);
    }
  });
  if (!out.length) return fallback();
  return out;
}

/** GetRouteOperation: `<host>:<port><path>` for one destination cluster, else `<VirtualService name>:<port><path>`. */
function routeOperation(r: Json, vsName: string, port: number): string {
  const m = r.match ?? {};
  const path = m.prefix !== undefined ? `${m.prefix}*` : m.path !== undefined ? m.path : m.safe_regex ? m.safe_regex.regex : '/*';
  const c = /^outbound\|(\d+)\|[^|]*\|(.+)$/.exec(String(r.route?.cluster ?? ''));
  return c ? `${c[2]}:${c[1]}${path}` : `${vsName}:${port}${path}`;
}

function destinations(
  h: Json,
  host: string,
  port: number,
  hosts: string[],
  known: KnownClusters,
  ctx: TranslateContext,
  where: string,
): { cluster?: string; weighted?: Json[] } {
  const dests: Json[] = h.route ?? [];
  if (!dests.length) return {};
  const name = (d: Json, j: number) => {
    const want = String(d.destination?.host ?? host);
    const fqdn = hosts.find((x) => hostMatches(want, x)) ?? want;
    const c = outboundClusterName(d.destination?.port?.number ?? port, fqdn, d.destination?.subset ?? '');
    if (!known.has(c)) {
      ctx.warnings.push(
        `${where}.route[${j}]: no cluster ${c} (${d.destination?.subset ? `no DestinationRule subset "${d.destination.subset}" for ${fqdn}` : `no service ${fqdn}`}), so Envoy answers 503 NC to requests routed there; define the subset or fix the host`,
      );
    }
    return c;
  };
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
