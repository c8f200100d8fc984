/**
 * The parts of a VirtualService HTTP route beyond match and destination, as istiod's TranslateRoute
 * and applyHTTPRouteDestination write them (pilot/pkg/networking/core/route/route.go): header
 * operations, rewrite (uri, uriRegexRewrite, authority), request mirroring, redirect, direct
 * response and the CORS policy. Exported one by one so that gateway-bound routes can reuse them.
 */
import type { Json } from './resources.ts';
import type { TranslateContext } from './context.ts';
import { disablesShadowHostSuffix } from './istio-version.ts';
import { wholeSeconds } from '../util/duration.ts';

export interface HeaderOps {
  request_headers_to_add?: Json[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: Json[];
  response_headers_to_remove?: string[];
  /** `:authority`/`host` in request set/add: becomes the route's host_rewrite_literal. */
  authority?: string;
}

const isInternal = (k: string) => k.startsWith(':') || k.toLowerCase() === 'host';
const isAuthority = (k: string) => k.toLowerCase() === ':authority' || k.toLowerCase() === 'host';

/** translateAppendHeaders: sorted by key (Go strings.Compare), pseudo-headers and Host dropped. */
function appendHeaders(headers: Record<string, string> | undefined, append: boolean): { list: Json[]; authority: string } {
  let authority = '';
  const list: Json[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (isAuthority(key)) authority = String(value);
    if (isInternal(key)) continue;
    list.push({ header: { key, value: String(value) }, append_action: append ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  list.sort((a, b) => (a.header.key < b.header.key ? -1 : a.header.key > b.header.key ? 1 : 0));
  return { list, authority };
}

/** TranslateHeadersOperations: set before add; an authority from `set` wins over one from `add`. */
export function headerOperations(headers: Json): HeaderOps {
  const req = headers?.request ?? {};
  const resp = headers?.response ?? {};
  const reqSet = appendHeaders(req.set, false);
  const reqAdd = appendHeaders(req.add, true);
  const out: HeaderOps = {};
  const reqAddAll = [...reqSet.list, ...reqAdd.list];
  const respAddAll = [...appendHeaders(resp.set, false).list, ...appendHeaders(resp.add, true).list];
  const reqRemove = ((req.remove ?? []) as string[]).filter((k) => !isInternal(k));
  const respRemove = ((resp.remove ?? []) as string[]).filter((k) => !isInternal(k));
  if (reqAddAll.length) out.request_headers_to_add = reqAddAll;
  if (reqRemove.length) out.request_headers_to_remove = reqRemove;
  if (respAddAll.length) out.response_headers_to_add = respAddAll;
  if (respRemove.length) out.response_headers_to_remove = respRemove;
  const authority = reqSet.authority || reqAdd.authority;
  if (authority) out.authority = authority;
  return out;
}

/** Appends one set of header operations to a route or a weighted cluster (processDestination appends). */
export function addHeaderOps(target: Json, ops: HeaderOps): void {
  for (const k of ['request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove'] as const)
    if (ops[k]?.length) target[k] = [...(target[k] ?? []), ...ops[k]];
}

/** translatePercentToFractionalPercent: uint32(value * 10000) per million (Go truncates). */
export const percentPerMillion = (p: Json) => ({ numerator: Math.trunc(Number(p?.value ?? 0) * 10000), denominator: 'MILLION' });

/**
 * MirrorPercent / MirrorPercentByPolicy + TranslateRequestMirrorPolicy: `mirror` with mirrorPercentage
 * (per million) or the legacy integer mirrorPercent (per hundred), default 100 %; an explicit 0 mirrors
 * nothing. `mirrors[]` each with its own percentage.
 */
export function mirrorPolicies(h: Json, clusterOf: (destination: Json) => string, ctx: TranslateContext): Json[] {
  const out: Json[] = [];
  const policy = (cluster: string, fraction: Json) => ({
    cluster,
    runtime_fraction: { default_value: fraction },
    trace_sampled: false,
    ...(disablesShadowHostSuffix(ctx.version) ? { disable_shadow_host_suffix_append: true } : {}),
  });
  if (h.mirror) {
    let fraction: Json | undefined = { numerator: 100, denominator: 'HUNDRED' };
    if (h.mirrorPercentage !== undefined)
      fraction = Number(h.mirrorPercentage?.value ?? 0) > 0 ? percentPerMillion(h.mirrorPercentage) : undefined;
    else if (h.mirrorPercent !== undefined)
      fraction = Number(h.mirrorPercent) > 0 ? { numerator: Number(h.mirrorPercent), denominator: 'HUNDRED' } : undefined;
    if (fraction) out.push(policy(clusterOf(h.mirror), fraction));
  }
  for (const m of (h.mirrors ?? []) as Json[]) {
    if (!m?.destination) continue;
    const fraction =
      m.percentage === undefined
        ? { numerator: 100, denominator: 'HUNDRED' }
        : Number(m.percentage?.value ?? 0) > 0
          ? percentPerMillion(m.percentage)
          : undefined;
    if (fraction) out.push(policy(clusterOf(m.destination), fraction));
  }
  return out;
}

/** The rewrite part of applyHTTPRouteDestination: regex rewrite wins over uri; an authority rewrite wins over a header one. */
export function applyRewrite(action: Json, rewrite: Json | undefined, headerAuthority: string | undefined): void {
  let authority = headerAuthority ?? '';
  if (rewrite) {
    if (rewrite.uriRegexRewrite)
      action.regex_rewrite = {
        pattern: { regex: rewrite.uriRegexRewrite.match ?? '' },
        substitution: rewrite.uriRegexRewrite.rewrite ?? '',
      };
    else if (rewrite.uri) action.prefix_rewrite = rewrite.uri;
    if (rewrite.authority) authority = rewrite.authority;
  }
  if (authority) action.host_rewrite_literal = authority;
}

const REDIRECT_CODES: Record<number, string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};
export const REDIRECT_CODE_VALUES = Object.keys(REDIRECT_CODES).map(Number);

/** ApplyRedirect (sidecar listeners are plain HTTP, so the default scheme is http). */
export function redirectAction(redirect: Json, port: number): Json {
  const out: Json = {};
  if (redirect.authority) out.host_redirect = redirect.authority;
  if (redirect.prefixRewrite) out.prefix_rewrite = redirect.prefixRewrite;
  else out.path_redirect = redirect.uri ?? '';
  if (redirect.scheme) out.scheme_redirect = redirect.scheme;
  if (redirect.port !== undefined || redirect.derivePort !== undefined) {
    let p = redirect.port !== undefined ? Number(redirect.port) : redirect.derivePort === 'FROM_REQUEST_PORT' ? port : 0;
    const scheme = redirect.scheme || 'http';
    if ((p === 80 && scheme === 'http') || (p === 443 && scheme === 'https')) p = 0;
    if (p) out.port_redirect = p;
  }
  out.response_code = REDIRECT_CODES[Number(redirect.redirectCode ?? 301) || 301];
  return out;
}

/** ApplyDirectResponse: the status and an inline string or bytes body. */
export function directResponseAction(d: Json): Json {
  const out: Json = { status: Number(d.status) };
  if (d.body?.string !== undefined) out.body = { inline_string: String(d.body.string) };
  else if (d.body?.bytes !== undefined) out.body = { inline_bytes: String(d.body.bytes) };
  return out;
}

const stringMatcher = (m: Json) =>
  m.exact !== undefined ? { exact: m.exact } : m.prefix !== undefined ? { prefix: m.prefix } : { safe_regex: { regex: m.regex } };

/** TranslateCORSPolicy: the per-route config of the cors filter every sidecar HCM carries. */
export function corsPolicy(c: Json): Json {
  const out: Json = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
    forward_not_matching_preflights: c.unmatchedPreflights !== 'IGNORE',
    filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
  };
  if (c.allowOrigins) out.allow_origin_string_match = (c.allowOrigins as Json[]).map(stringMatcher);
  else if (c.allowOrigin) out.allow_origin_string_match = (c.allowOrigin as string[]).map((o) => ({ exact: o }));
  if (c.allowCredentials !== undefined) out.allow_credentials = Boolean(c.allowCredentials);
  if (c.allowHeaders?.length) out.allow_headers = c.allowHeaders.join(',');
  if (c.allowMethods?.length) out.allow_methods = c.allowMethods.join(',');
  if (c.exposeHeaders?.length) out.expose_headers = c.exposeHeaders.join(',');
  // istiod writes the whole seconds of maxAge (strconv.FormatInt(GetSeconds())).
  if (c.maxAge !== undefined) out.max_age = String(wholeSeconds(String(c.maxAge)));
  return out;
}
