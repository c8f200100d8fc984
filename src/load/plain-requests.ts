/** The exported `requests` of a plain-data script: what each iteration sends, as plain data, checked. */
import { show, USE_K6, type Problems } from './scenario-problems.ts';
import type { RequestSpec } from './types.ts';

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);

export function validateRequests(value: unknown, problems: Problems): RequestSpec[] | undefined {
  const fix =
    'export const requests = [{ method: "GET", url: "http://..." }] and loop over it in the default function (see scenarios/peak-load.js)';
  if (!Array.isArray(value) || value.length === 0) {
    problems.add({
      path: 'requests',
      message: 'the embedded driver needs the requests each iteration makes as plain data',
      expected: 'a non-empty exported array of {method, url, body?, headers?}',
      found: show(value),
      fix: `${fix}; or ${USE_K6}`,
    });
    return undefined;
  }
  const out: RequestSpec[] = [];
  value.forEach((r: unknown, i: number) => {
    const at = `requests[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      problems.add({ path: at, message: 'not a request object', expected: '{method, url, body?, headers?}', found: show(r), fix });
      return;
    }
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['method', 'url', 'body', 'headers'].includes(k))
        problems.add({
          path: `${at}.${k}`,
          message: 'unknown request field',
          expected: 'method, url, body or headers',
          found: k,
          fix: `remove it, or ${USE_K6}`,
        });
    }
    const method = typeof o.method === 'string' ? o.method.toUpperCase() : undefined;
    if (!method || !HTTP_METHODS.has(method))
      problems.add({ path: `${at}.method`, message: 'not an HTTP method', expected: [...HTTP_METHODS].join(', '), found: show(o.method) });
    let url: URL | undefined;
    try {
      url = typeof o.url === 'string' ? new URL(o.url) : undefined;
    } catch {
      /* reported below */
    }
    if (!url || !['http:', 'https:'].includes(url.protocol))
      problems.add({
        path: `${at}.url`,
        message: 'not an absolute http(s) URL',
        expected: 'e.g. http://a.istio.svc.cluster.local/work',
        found: show(o.url),
      });
    if (o.body != null && typeof o.body !== 'string')
      problems.add({
        path: `${at}.body`,
        message: 'body must be a string',
        expected: 'a string (JSON.stringify objects yourself)',
        found: show(o.body),
      });
    const headers: Record<string, string> = {};
    if (o.headers !== undefined) {
      if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) {
        problems.add({ path: `${at}.headers`, message: 'headers must be an object of strings', found: show(o.headers) });
      } else {
        for (const [k, v] of Object.entries(o.headers as Record<string, unknown>)) {
          if (typeof v !== 'string') problems.add({ path: `${at}.headers.${k}`, message: 'header value must be a string', found: show(v) });
          else headers[k] = v;
        }
      }
    }
    out.push({
      method: method ?? 'GET',
      url: String(o.url),
      body: (o.body as string | null | undefined) ?? null,
      ...(Object.keys(headers).length ? { headers } : {}),
    });
  });
  return out;
}
