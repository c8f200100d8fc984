/**
 * istiod's validation of VirtualService HTTP route actions (pkg/config/validation: validateHTTPRoute,
 * validateHTTPRouteConflict, validateHTTPRedirect, validateHTTPRewrite, validateHTTPMirrors,
 * ValidateHTTPHeader*OperationName), so that what istiod would refuse is refused at load, with the
 * field, what was expected, what was found and a fix.
 */
import type { ProblemDetail } from '../errors.ts';
import type { Json } from './resources.ts';
import { describe } from './schema-suggest.ts';
import { REDIRECT_CODE_VALUES } from './vs-actions.ts';

type Add = (path: string, message: string, expected: string, found: unknown, fix: string) => void;

export function httpRouteActionChecks(http: Json[], at: string, file: string): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  http.forEach((h, i) => {
    if (!h || typeof h !== 'object') return;
    const base = `${at}.spec.http[${i}]`;
    const add: Add = (path, message, expected, found, fix) =>
      out.push({ file, path: `${base}${path}`, message, expected, found: typeof found === 'string' ? found : describe(found), fix });
    percentages(h, add);
    conflicts(h, add);
    if (h.redirect) redirect(h.redirect, add);
    if (h.rewrite) rewrite(h.rewrite, add);
    if (h.directResponse && (h.directResponse.status < 200 || h.directResponse.status > 600))
      add(
        '.directResponse.status',
        'Istio rejects this HTTP status',
        'a status in 200-599',
        h.directResponse.status,
        'use e.g. 200 or 503',
      );
    headerNames(h.headers, '.headers', add);
    ((Array.isArray(h.route) ? h.route : []) as Json[]).forEach((d, j) => headerNames(d?.headers, `.route[${j}].headers`, add));
  });
  return out;
}

function percentages(h: Json, add: Add) {
  const check = (v: unknown, path: string) => {
    if (typeof v !== 'number' || (v >= 0 && v <= 100)) return;
    add(
      path,
      'Istio rejects a mirror percentage outside 0-100',
      'a number from 0 to 100 (percent of requests mirrored)',
      v,
      `use a value from 0 to 100, e.g. ${v > 100 ? 100 : 0}`,
    );
  };
  check(h.mirrorPercentage?.value, '.mirrorPercentage.value');
  check(typeof h.mirrorPercent === 'object' ? h.mirrorPercent?.value : h.mirrorPercent, '.mirrorPercent');
  ((Array.isArray(h.mirrors) ? h.mirrors : []) as Json[]).forEach((m, j) => check(m?.percentage?.value, `.mirrors[${j}].percentage.value`));
  if ((h.mirrorPercentage !== undefined || h.mirrorPercent !== undefined) && !h.mirror)
    add(
      h.mirrorPercentage !== undefined ? '.mirrorPercentage' : '.mirrorPercent',
      'a mirror percentage without spec.http[].mirror mirrors nothing',
      'mirror: { host: ... } beside it (or mirrors[].percentage)',
      'no mirror',
      'add mirror: { host: <service> } or remove the percentage',
    );
}

function conflicts(h: Json, add: Add) {
  const hasRoute = Array.isArray(h.route) && h.route.length > 0;
  if (h.mirror && Array.isArray(h.mirrors) && h.mirrors.length)
    add(
      '.mirrors',
      'Istio rejects a route with both mirror and mirrors',
      'one of mirror or mirrors',
      'both',
      'move the mirror into mirrors[] (with its percentage)',
    );
  for (const [action, name] of [
    [h.redirect, 'redirect'],
    [h.directResponse, 'directResponse'],
  ] as const) {
    if (!action) continue;
    for (const other of ['route', 'fault', 'rewrite', ...(name === 'redirect' ? ['directResponse'] : [])]) {
      if (other === 'route' ? !hasRoute : h[other] === undefined) continue;
      add(
        `.${other}`,
        `Istio rejects a route with both ${name} and ${other}`,
        `either ${name} or ${other}`,
        'both',
        `remove ${other} or ${name}`,
      );
    }
  }
}

function redirect(r: Json, add: Add) {
  if (r.uri && r.prefixRewrite)
    add(
      '.redirect.prefixRewrite',
      'Istio rejects a redirect with both uri and prefixRewrite',
      'one of uri or prefixRewrite',
      'both',
      'remove one of them',
    );
  if (!r.uri && !r.prefixRewrite && !r.authority && r.port === undefined && r.derivePort === undefined && !r.scheme)
    add(
      '.redirect',
      'Istio rejects a redirect that changes nothing',
      'at least one of uri, prefixRewrite, authority, port, derivePort, scheme',
      r,
      'add e.g. uri: /new',
    );
  if (r.redirectCode !== undefined && r.redirectCode !== 0 && !REDIRECT_CODE_VALUES.includes(r.redirectCode))
    add(
      '.redirect.redirectCode',
      r.redirectCode >= 300 && r.redirectCode <= 399
        ? 'istiod accepts this code but generates a route without action for it, which Envoy refuses'
        : 'Istio rejects a redirect code outside 3xx',
      REDIRECT_CODE_VALUES.join(', '),
      r.redirectCode,
      'use 301 (the default) or 302',
    );
  if (r.scheme && r.scheme !== 'http' && r.scheme !== 'https')
    add('.redirect.scheme', 'Istio rejects this redirect scheme', '"http" or "https"', r.scheme, 'use https');
}

function rewrite(r: Json, add: Add) {
  if (r.uri && r.uriRegexRewrite)
    add(
      '.rewrite.uriRegexRewrite',
      'Istio rejects a rewrite with both uri and uriRegexRewrite',
      'one of uri or uriRegexRewrite',
      'both',
      'remove one of them',
    );
  if (!r.uri && !r.uriRegexRewrite && !r.authority)
    add(
      '.rewrite',
      'Istio rejects a rewrite that changes nothing',
      'at least one of uri, uriRegexRewrite, authority',
      r,
      'add e.g. uri: /',
    );
  const re = r.uriRegexRewrite;
  if (re && (!re.match || !re.rewrite))
    add(
      '.rewrite.uriRegexRewrite',
      'Istio needs both match and rewrite in uriRegexRewrite',
      '{ match: <RE2 regex>, rewrite: <substitution> }',
      re,
      'give both fields',
    );
}

/** Pseudo-headers cannot be touched, except that request set/add may name :authority (or host) to rewrite it. */
function headerNames(headers: Json, path: string, add: Add) {
  if (!headers || typeof headers !== 'object') return;
  const bad = (name: string, authorityOk: boolean) => {
    const lower = name.toLowerCase();
    if (!name) return 'an empty header name';
    if (authorityOk && (lower === ':authority' || lower === 'host')) return undefined;
    if (lower === 'host') return 'the Host header cannot be set or removed here';
    if (name.startsWith(':')) return 'a pseudo-header (":" prefix) cannot be changed';
    return undefined;
  };
  for (const side of ['request', 'response'] as const) {
    for (const op of ['set', 'add', 'remove'] as const) {
      const v = headers[side]?.[op];
      const names: string[] = op === 'remove' ? (Array.isArray(v) ? v : []) : Object.keys(v ?? {});
      for (const name of names) {
        const why = bad(name, side === 'request' && op !== 'remove');
        if (why)
          add(
            `${path}.${side}.${op}`,
            `Istio rejects header "${name}": ${why}`,
            side === 'request' && op !== 'remove'
              ? 'a regular header name, or :authority to rewrite the authority'
              : 'a regular header name',
            name,
            side === 'request' && op !== 'remove'
              ? 'use rewrite.authority or headers.request.set[":authority"] for the host'
              : `remove "${name}"`,
          );
      }
    }
  }
}
