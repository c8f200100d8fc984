/**
 * `k6/http` for one VU: requests through undici, with k6's semantics for what a script can see — form
 * encoding of object bodies, the default User-Agent, redirects followed up to maxRedirects (each hop
 * its own request and samples), cookies, `http_req_*` samples with k6's system tags, expected statuses
 * 200–399 for `http_req_failed`, and errors as a Response with status 0 and k6's error_code (thrown only
 * with `throw: true`). Every request is also recorded in Spillover's requests.ndjson.
 */
import { Agent } from 'undici';
import { CookieJar } from './cookie-jar.ts';
import { K6Response, canonicalHeader, k6ErrorCode } from './response.ts';
import { Interrupt, sampleTags, throwIfInterrupted, type VuHost, type VuState } from './vu-state.ts';

/** One agent for all VUs of the run; a VU's concurrent requests each get their own keep-alive connection. */
let agent: Agent | undefined;
export const sharedAgent = () => (agent ??= new Agent({ keepAliveTimeout: 60_000, connections: null, pipelining: 1 }));
export async function closeAgent(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.close().catch(() => undefined);
}

type Params = {
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

function timeoutMs(v: unknown, def: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(v));
  if (!m) throw new Error(`params.timeout ${JSON.stringify(v)} is not a duration such as "10s"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms']!;
}

function encodeBody(body: unknown, headers: Record<string, string>): string | Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body) || Object.prototype.toString.call(body) === '[object ArrayBuffer]') {
    return Buffer.from(
      ArrayBuffer.isView(body) ? body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) : (body as ArrayBuffer),
    );
  }
  if (typeof body === 'object') {
    const entries = Object.entries(body as Record<string, unknown>);
    if (
      entries.some(([, v]) => v && typeof v === 'object' && (v as { filename?: unknown }).filename !== undefined && 'data' in (v as object))
    ) {
      const boundary = `----k6boundary${Math.random().toString(16).slice(2)}`;
      const parts: Buffer[] = [];
      for (const [k, v] of entries) {
        const f = v as { data?: unknown; filename?: string; content_type?: string };
        if (v && typeof v === 'object' && 'data' in f) {
          parts.push(
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${f.filename ?? k}"\r\nContent-Type: ${f.content_type ?? 'application/octet-stream'}\r\n\r\n`,
            ),
          );
          parts.push(typeof f.data === 'string' ? Buffer.from(f.data, 'latin1') : Buffer.from(f.data as ArrayBuffer));
          parts.push(Buffer.from('\r\n'));
        } else parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`));
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`));
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
      return Buffer.concat(parts);
    }
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    // Go's url.Values.Encode, which k6 uses: keys sorted, QueryEscape (space as +).
    // Arrays become repeated keys, as in k6.
    return entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${queryEscape(k)}=${queryEscape(String(x))}`))
      .join('&');
  }
  return String(body);
}

const queryEscape = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

const hasHeader = (h: Record<string, string>, name: string) => Object.keys(h).some((k) => k.toLowerCase() === name);

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
      res = await send(curMethod, url, reqHeaders, curBody, params, tmo, responseType, nameTagged?.name, jar);
      const loc = res.headers.Location;
      if (res.status >= 300 && res.status < 400 && loc && hop < maxRedirects) {
        url = new URL(loc, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && curMethod === 'POST')) {
          curMethod = 'GET';
          curBody = null;
        }
        continue;
      }
      if (res.status >= 300 && res.status < 400 && loc && hop >= maxRedirects && maxRedirects > 0) {
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

  async function send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | Buffer | null,
    params: Params,
    tmo: number,
    responseType: string,
    nameTag: string | undefined,
    jar: CookieJar,
  ): Promise<K6Response> {
    const { origin } = await host.resolve(url);
    const res = new K6Response(host, method, url.href, headers, body === null ? '' : body.toString());
    res.send = (m, u, b, p) => one(m, u, b, p as Params);
    const sentMs = Date.now();
    const t0 = performance.now();
    let tHeaders = t0;
    let received = 0;
    let rawHeaders: Record<string, string | string[] | undefined> = {};
    let kind: string | undefined;
    const ac = new AbortController();
    const onInterrupt = () => ac.abort(new Interrupt('interrupted'));
    vu.interrupt.signal.addEventListener('abort', onInterrupt, { once: true });
    const timer = setTimeout(() => ac.abort(Object.assign(new Error('request timeout'), { name: 'TimeoutError' })), tmo);
    try {
      const r = await sharedAgent().request({
        origin,
        path: url.pathname + url.search,
        method: method as 'GET',
        headers: { host: url.host, ...headers },
        body,
        signal: ac.signal,
      });
      tHeaders = performance.now();
      rawHeaders = r.headers;
      res.status = r.statusCode;
      const buf = Buffer.from(await r.body.arrayBuffer());
      received = buf.length;
      if (responseType === 'text') res.body = buf.toString('utf8');
      else if (responseType === 'binary') res.body = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      else res.body = null;
    } catch (e) {
      const reason = ac.signal.aborted ? ac.signal.reason : e;
      if (reason instanceof Interrupt) {
        vu.interrupt.signal.removeEventListener('abort', onInterrupt);
        clearTimeout(timer);
        throw reason;
      }
      const ec = k6ErrorCode(reason, url);
      res.status = 0;
      res.error = ec.error;
      res.error_code = ec.code;
      kind = ec.kind;
      host.log('warn', `Request Failed error="${method} ${url.href}": ${ec.error}`);
    } finally {
      clearTimeout(timer);
      vu.interrupt.signal.removeEventListener('abort', onInterrupt);
    }
    const t1 = performance.now();
    const endMs = sentMs + (t1 - t0);
    res.status_text = res.status ? `${res.status}` : '';
    for (const [k, v] of Object.entries(rawHeaders)) {
      if (v === undefined) continue;
      const name = canonicalHeader(k);
      res.headers[name] = Array.isArray(v) ? v.join(', ') : v;
      if (name === 'Set-Cookie') {
        for (const c of Array.isArray(v) ? v : [v]) {
          jar.setFromResponse(url, c);
          const [pair] = c.split(';');
          const i = pair.indexOf('=');
          if (i > 0) (res.cookies[pair.slice(0, i).trim()] ??= []).push({ name: pair.slice(0, i).trim(), value: pair.slice(i + 1).trim() });
        }
      }
    }
    if (res.status >= 400) res.error_code = 1000 + res.status;
    res.remote_ip = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    res.remote_port = Number(new URL(origin).port);
    const waiting = status0(res) ? t1 - t0 : tHeaders - t0;
    res.timings = {
      duration: t1 - t0,
      blocked: 0,
      connecting: 0,
      tls_handshaking: 0,
      sending: 0,
      waiting,
      receiving: status0(res) ? 0 : t1 - tHeaders,
    };
    // k6: a script-set name tag replaces url too (keeps the cardinality low), as does http.url``.
    const urlTag = (params.tags?.name as string | undefined) ?? nameTag ?? url.href;
    const own: Record<string, unknown> = {
      method,
      url: urlTag,
      name: urlTag,
      status: String(res.status),
      proto: 'HTTP/1.1',
      group: vu.groupPath,
      ...params.tags,
      ...(params.tags?.name !== undefined ? { url: urlTag } : {}),
    };
    if (res.error) own.error = res.error;
    if (res.error_code) own.error_code = String(res.error_code);
    const cb = params.responseCallback === undefined ? responseCallback : (params.responseCallback as typeof responseCallback);
    const expected = cb ? cb(res.status) : undefined;
    if (expected !== undefined) own.expected_response = String(expected);
    const tags = sampleTags(host, vu, own);
    const s = host.store;
    s.add('http_reqs', 1, tags, endMs);
    s.add('http_req_duration', res.timings.duration, tags, endMs, { iter: String(vu.iterInScenario), vu: String(vu.id) });
    for (const k of ['blocked', 'connecting', 'tls_handshaking', 'sending', 'waiting', 'receiving'] as const)
      s.add(`http_req_${k}`, res.timings[k], tags, endMs);
    if (expected !== undefined) s.add('http_req_failed', expected ? 0 : 1, tags, endMs);
    const sent =
      method.length +
      url.pathname.length +
      url.search.length +
      12 +
      Object.entries(headers).reduce((a, [k, v]) => a + k.length + v.length + 4, 0) +
      (body?.length ?? 0);
    const dataTags = sampleTags(host, vu, { group: vu.groupPath });
    s.add('data_sent', sent, dataTags, endMs);
    s.add(
      'data_received',
      received + Object.entries(rawHeaders).reduce((a, [k, v]) => a + k.length + String(v).length + 4, 17),
      dataTags,
      endMs,
    );
    const first = vu.intendedMs > 0;
    host.record({
      scenario: vu.scenario?.name ?? 'setup',
      iter: vu.iterInScenario,
      intendedMs: first && vu.intendedMs <= sentMs ? vu.intendedMs : sentMs,
      sentMs,
      endMs,
      status: res.status,
      error: kind,
      method,
      url: url.href,
      headers: rawHeaders,
      arrival: first && vu.arrival,
    });
    vu.intendedMs = 0;
    return res;
  }
  const status0 = (r: K6Response) => r.status === 0;

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
