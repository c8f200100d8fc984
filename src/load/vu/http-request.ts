/**
 * One k6 request as a script makes it (`http.get(url, params)` …): the URL, k6's default User-Agent,
 * params.headers (case-insensitive override), basic auth from the URL's userinfo, the body as k6
 * encodes it, cookies from the jar and params.cookies, then the exchange (http-send.ts) and redirects
 * followed up to maxRedirects, each hop its own request and samples, as in k6.
 */
import type { CookieJar } from './cookie-jar.ts';
import { encodeBody, hasHeader, timeoutMs } from './http-body.ts';
import { send } from './http-send.ts';
import type { K6Response } from './response.ts';
import { throwIfInterrupted, type VuHost, type VuState } from './vu-state.ts';

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

export type ResponseCallback = ((status: number) => boolean) | null;

/** What the request needs from its VU's k6/http module. */
export interface HttpContext {
  host: VuHost;
  vu: VuState;
  /** http.setResponseCallback's current value. */
  responseCallback(): ResponseCallback;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT']);

function requestHeaders(host: VuHost, params: Params): Record<string, string> {
  const headers: Record<string, string> = { 'User-Agent': host.http.userAgent };
  const given = params.headers;
  if (!given) return headers;
  for (const [k, v] of Object.entries(given))
    if (v !== undefined && v !== null) {
      const lower = k.toLowerCase();
      for (const old of Object.keys(headers)) if (old.toLowerCase() === lower) delete headers[old];
      headers[k] = String(v);
    }
  return headers;
}

/** The URL without userinfo; its credentials become basic auth unless the script set Authorization. */
function requestUrl(raw: string, headers: Record<string, string>, params: Params): URL {
  const url = new URL(raw);
  if (params.auth && params.auth !== 'basic')
    throw new Error(`params.auth "${params.auth}" (digest/ntlm) is not supported by the embedded engine; use basic auth or --engine k6`);
  if (!url.username && !url.password) return url;
  if (url.username && !hasHeader(headers, 'authorization'))
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  return new URL(url.href.replace(/\/\/[^@/]*@/, '//'));
}

function cookieHeader(jar: CookieJar, url: URL, cookies: Record<string, unknown> | undefined): string | undefined {
  const parts = jar.size === 0 ? [] : jar.forUrl(url).map((c) => `${c.name}=${c.value}`);
  if (cookies)
    for (const [k, v] of Object.entries(cookies))
      parts.push(`${k}=${typeof v === 'object' && v ? (v as { value: string }).value : String(v)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export async function k6Request(
  ctx: HttpContext,
  method: string,
  rawUrl: unknown,
  body: unknown,
  params: Params = {},
): Promise<K6Response> {
  const { host, vu } = ctx;
  if (vu.initPhase)
    throw new Error(
      'making HTTP requests in the init context is not supported (k6 refuses it too); move it into a function such as setup() or default()',
    );
  throwIfInterrupted(vu);
  const m = String(method).toUpperCase();
  if (!METHODS.has(m)) throw new Error(`unknown HTTP method "${method}"`);
  const nameTagged = (rawUrl as { __k6url?: { url: string; name: string } })?.__k6url;
  const headers = requestHeaders(host, params);
  let url = requestUrl(nameTagged ? nameTagged.url : String(rawUrl), headers, params);
  const maxRedirects = params.redirects ?? host.http.maxRedirects;
  const tmo = timeoutMs(params.timeout, host.http.timeoutMs);
  const responseType = params.responseType ?? (host.http.discardResponseBodies ? 'none' : 'text');
  const responseCallback = params.responseCallback === undefined ? ctx.responseCallback() : (params.responseCallback as ResponseCallback);
  const jar = (params.jar as { __jar?: CookieJar } | undefined)?.__jar ?? vu.jar;
  let curMethod = m;
  let curBody = encodeBody(body, headers);
  for (let hop = 0; ; hop++) {
    const reqHeaders = { ...headers };
    const cookie = cookieHeader(jar, url, params.cookies);
    if (cookie !== undefined) reqHeaders.Cookie = cookie;
    const req = { method: curMethod, url, headers: reqHeaders, body: curBody, tags: params.tags, timeoutMs: tmo, responseType };
    const res = await send(host, vu, { ...req, nameTag: nameTagged?.name, jar, responseCallback });
    res.send = (mm, u, b, p) => k6Request(ctx, mm, u, b, p as Params);
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
    if (loc && maxRedirects > 0)
      host.log(
        'warn',
        `Stopped after ${maxRedirects} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects option`,
      );
    if (res.error && host.http.throw) throw new Error(res.error);
    return res;
  }
}
