/**
 * `k6/http` for one VU: requests through undici, with k6's semantics for what a script can see — form
 * encoding of object bodies, the default User-Agent, redirects followed up to maxRedirects (each hop
 * its own request and samples), cookies, `http_req_*` samples with k6's system tags, expected statuses
 * 200–399 for `http_req_failed`, and errors as a Response with status 0 and k6's error_code (thrown only
 * with `throw: true`). Every request is also recorded in Spillover's requests.ndjson.
 */
import { CookieJar } from './cookie-jar.ts';
import { encodeBody, hasHeader, timeoutMs } from './http-body.ts';
import { closeTransport, send } from './http-send.ts';
import type { K6Response } from './response.ts';
import { throwIfInterrupted, type VuHost, type VuState } from './vu-state.ts';

/** Ends the run's connections (http-send.ts keeps one transport for all VUs). */
export const closeAgent = closeTransport;

export type Params = {
  headers?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  timeout?: unknown;
  redirects?: number;
  responseType?: string;
  auth?: string;
  cookies?: Record<string, unknown>;
  jar?: unknown;
  compression?: string;
  responseCallback?: unknown;
};

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT']);

const jarApi = (jar: CookieJar) => ({
  __jar: jar,
  set: (url: string, name: string, value: string, o?: Record<string, unknown>) => jar.set(url, name, value, o as never),
  cookiesForURL: (url: string) => jar.cookiesForURL(url),
  clear: (url: string) => jar.clear(url),
  delete: (url: string, name: string) => jar.delete(url, name),
});

export function makeHttp(host: VuHost, vu: VuState) {
  let responseCallback: ((status: number) => boolean) | null = (s) => s >= 200 && s < 400;

  async function one(method: string, rawUrl: unknown, body: unknown, params: Params = {}): Promise<K6Response> {
    if (vu.initPhase)
      throw new Error(
        'making HTTP requests in the init context is not supported (k6 refuses it too); move it into a function such as setup() or default()',
      );
    throwIfInterrupted(vu);
    const m = String(method).toUpperCase();
    if (!METHODS.has(m)) throw new Error(`unknown HTTP method "${method}"`);
    const nameTagged = (rawUrl as { __k6url?: { url: string; name: string } })?.__k6url;
    let url = new URL(nameTagged ? nameTagged.url : String(rawUrl));
    const headers: Record<string, string> = { 'User-Agent': host.http.userAgent };
    for (const [k, v] of Object.entries(params.headers ?? {}))
      if (v !== undefined && v !== null) {
        for (const old of Object.keys(headers)) if (old.toLowerCase() === k.toLowerCase()) delete headers[old];
        headers[k] = String(v);
      }
    if (params.auth && params.auth !== 'basic')
      throw new Error(`params.auth "${params.auth}" (digest/ntlm) is not supported by the embedded engine; use basic auth or --engine k6`);
    if (url.username && !hasHeader(headers, 'authorization')) {
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    }
    url = new URL(url.href.replace(/\/\/[^@/]*@/, '//'));
    const payload = encodeBody(body, headers);
    const maxRedirects = params.redirects ?? host.http.maxRedirects;
    const tmo = timeoutMs(params.timeout, host.http.timeoutMs);
    const responseType = params.responseType ?? (host.http.discardResponseBodies ? 'none' : 'text');
    let res!: K6Response;
    let curMethod = m;
    let curBody = payload;
    for (let hop = 0; ; hop++) {
      const reqHeaders = { ...headers };
      const jar = (params.jar as { __jar?: CookieJar } | undefined)?.__jar ?? vu.jar;
      const jarCookies = jar.forUrl(url).map((c) => `${c.name}=${c.value}`);
      const extra = Object.entries(params.cookies ?? {}).map(
        ([k, v]) => `${k}=${typeof v === 'object' && v ? (v as { value: string }).value : String(v)}`,
      );
      if (jarCookies.length + extra.length > 0) reqHeaders.Cookie = [...jarCookies, ...extra].join('; ');
      res = await send(host, vu, {
        method: curMethod,
        url,
        headers: reqHeaders,
        body: curBody,
        tags: params.tags,
        timeoutMs: tmo,
        responseType,
        nameTag: nameTagged?.name,
        jar,
        responseCallback: params.responseCallback === undefined ? responseCallback : (params.responseCallback as typeof responseCallback),
      });
      res.send = (m, u, b, p) => one(m, u, b, p as Params);
      // Only a redirection's headers are decoded here (response.ts decodes them lazily).
      const loc = res.status >= 300 && res.status < 400 ? res.headers.Location : undefined;
      if (loc && hop < maxRedirects) {
        url = new URL(loc, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && curMethod === 'POST')) {
          curMethod = 'GET';
          curBody = null;
        }
        continue;
      }
      if (loc && hop >= maxRedirects && maxRedirects > 0) {
        host.log(
          'warn',
          `Stopped after ${maxRedirects} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects option`,
        );
      }
      break;
    }
    if (res.error && host.http.throw) throw new Error(res.error);
    return res;
  }

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
    asyncRequest: (method: string, url: unknown, body?: unknown, params?: Params) => one(method, url, body, params),
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
