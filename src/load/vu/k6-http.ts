/**
 * `k6/http` for one VU: requests through undici, with k6's semantics for what a script can see — form
 * encoding of object bodies, the default User-Agent, redirects followed up to maxRedirects (each hop
 * its own request and samples), cookies, `http_req_*` samples with k6's system tags, expected statuses
 * 200–399 for `http_req_failed`, and errors as a Response with status 0 and k6's error_code (thrown only
 * with `throw: true`). Every request is also recorded in Spillover's requests.ndjson.
 */
import { CookieJar } from './cookie-jar.ts';
import { k6Request, type HttpContext, type Params, type ResponseCallback } from './http-request.ts';
import { closeTransport } from './http-send.ts';
import type { VuHost, VuState } from './vu-state.ts';

export type { Params } from './http-request.ts';

/** Ends the run's connections (http-send.ts keeps one transport for all VUs). */
export const closeAgent = closeTransport;

const jarApi = (jar: CookieJar) => ({
  __jar: jar,
  set: (url: string, name: string, value: string, o?: Record<string, unknown>) => jar.set(url, name, value, o as never),
  cookiesForURL: (url: string) => jar.cookiesForURL(url),
  clear: (url: string) => jar.clear(url),
  delete: (url: string, name: string) => jar.delete(url, name),
});

export function makeHttp(host: VuHost, vu: VuState) {
  let responseCallback: ResponseCallback = (s) => s >= 200 && s < 400;
  const ctx: HttpContext = { host, vu, responseCallback: () => responseCallback };
  const one = (method: string, url: unknown, body: unknown, params?: Params) => k6Request(ctx, method, url, body, params);

  type BatchItem = string | unknown[] | { method?: string; url: string; body?: unknown; params?: Params };
  const toReq = (it: BatchItem): [string, unknown, unknown, Params | undefined] => {
    if (typeof it === 'string' || (it as { __k6url?: unknown }).__k6url) return ['GET', it, null, undefined];
    if (Array.isArray(it)) return [String(it[0]), it[1], it[2], it[3] as Params];
    const o = it as { method?: string; url: string; body?: unknown; params?: Params };
    return [o.method ?? 'GET', o.url, o.body, o.params];
  };

  return {
    request: (method: string, url: unknown, body?: unknown, params?: Params) => one(method, url, body, params),
    get: (url: unknown, params?: Params) => one('GET', url, null, params),
    head: (url: unknown, params?: Params) => one('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: Params) => one('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: Params) => one('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: Params) => one('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: Params) => one('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: Params) => one('OPTIONS', url, body, params),
    // Tracked so the iteration waits for it even when the script never awaits the promise (k6 does).
    asyncRequest: (method: string, url: unknown, body?: unknown, params?: Params) => {
      const p = one(method, url, body, params);
      const pending = (vu.pending ??= new Set());
      pending.add(p);
      const settled = () => pending.delete(p);
      p.then(settled, settled);
      return p;
    },
    batch: async (reqs: unknown) => {
      if (Array.isArray(reqs))
        return host.realm.array(await Promise.all(Array.from(reqs as unknown[]).map((r) => one(...toReq(r as BatchItem)))));
      const out = host.realm.object();
      const entries = Object.entries(reqs as Record<string, BatchItem>);
      const done = await Promise.all(entries.map(([, r]) => one(...toReq(r))));
      entries.forEach(([k], i) => {
        out[k] = done[i];
      });
      return out;
    },
    file: (data: unknown, filename?: string, contentType?: string) => ({
      data,
      filename: filename ?? 'file',
      content_type: contentType ?? 'application/octet-stream',
    }),
    cookieJar: () => jarApi(vu.jar),
    CookieJar: function K6CookieJar() {
      return jarApi(new CookieJar());
    },
    expectedStatuses: (...ranges: Array<number | { min: number; max: number }>) => {
      const f = (s: number) => ranges.some((r) => (typeof r === 'number' ? s === r : s >= r.min && s <= r.max));
      return f;
    },
    setResponseCallback: (cb: ((s: number) => boolean) | null) => {
      responseCallback = cb;
    },
    url: (strings: TemplateStringsArray, ...values: unknown[]) => {
      let url = '';
      let name = '';
      strings.forEach((s, i) => {
        url += s;
        name += s;
        if (i < values.length) {
          url += String(values[i]);
          name += '${}';
        }
      });
      return { __k6url: { url, name }, toString: () => url };
    },
    TLS_1_0: 'tls1.0',
    TLS_1_1: 'tls1.1',
    TLS_1_2: 'tls1.2',
    TLS_1_3: 'tls1.3',
    OCSP_STATUS_GOOD: 'good',
  };
}
