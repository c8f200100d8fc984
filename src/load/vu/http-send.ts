/**
 * One HTTP exchange of a VU (one hop; k6-http.ts follows redirects): send through the transport, fill
 * the K6Response, take k6's `http_req_*` / `data_*` samples with the request's tag set, and record the
 * request in requests.ndjson. This is the VU runtime's hot path: per request one tag set, one tag key
 * (metric-store.ts), no header object unless a script reads `res.headers` (response.ts).
 */
import type { CookieJar } from './cookie-jar.ts';
import { InFlight, TransportError, VuTransport, type RawResponse } from './http-transport.ts';
import { K6Response, k6ErrorCode } from './response.ts';
import { tagKey } from './metric-store.ts';
import { Interrupt, preciseNowMs, sampleTags, type VuHost, type VuState } from './vu-state.ts';

/** One transport for all VUs of the run (connections are per origin, one per request in flight). */
let transport: VuTransport | undefined;
export const sharedTransport = () => (transport ??= new VuTransport());
export async function closeTransport(): Promise<void> {
  const t = transport;
  transport = undefined;
  await t?.close();
}

export interface SendRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | Buffer | null;
  tags: Record<string, unknown> | undefined;
  timeoutMs: number;
  responseType: string;
  /** The name of an http.url`` template (k6's `name` tag). */
  nameTag: string | undefined;
  jar: CookieJar;
  responseCallback: ((status: number) => boolean) | null;
}

/** In-flight requests of each interruption controller: one abort listener per controller, not per request. */
const inflightOf = new WeakMap<AbortController, Set<InFlight>>();

function watch(vu: VuState, f: InFlight): Set<InFlight> {
  const ctl = vu.interrupt;
  let set = inflightOf.get(ctl);
  if (!set) {
    const s = new Set<InFlight>();
    inflightOf.set(ctl, s);
    ctl.signal.addEventListener('abort', () => {
      for (const x of s) x.cut(new Interrupt('interrupted'));
    });
    set = s;
  }
  set.add(f);
  if (ctl.signal.aborted) f.cut(new Interrupt('interrupted'));
  return set;
}

const timeoutError = () => Object.assign(new Error('request timeout'), { name: 'TimeoutError' });

/** Response headers the record keeps (Spillover's identity headers), by lower-case name. */
const IDENTITY = new Set([
  'x-spillover-service',
  'x-spillover-instance',
  'x-envoy-overloaded',
  'x-envoy-ratelimited',
  'x-envoy-immediate-health-check-fail',
]);
const IDENTITY_LENGTHS = new Set([...IDENTITY].map((h) => h.length));
const ENVOY_FLAG: Record<string, string> = {
  'x-envoy-overloaded': 'overloaded',
  'x-envoy-ratelimited': 'ratelimited',
  'x-envoy-immediate-health-check-fail': 'health-check-fail',
};

export interface Identity {
  service?: string;
  instance?: string;
  envoy?: string;
  setCookies?: string[];
  headerBytes: number;
}

/** One pass over the raw headers: identity headers, Set-Cookie, and the header bytes for data_received. */
export function scanHeaders(raw: Buffer[]): Identity {
  const id: Identity = { headerBytes: 17 };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i];
    id.headerBytes += n.length + raw[i + 1].length + 4;
    if (n.length === 10 && (n[0] | 0x20) === 0x73 && n.toString('latin1').toLowerCase() === 'set-cookie')
      (id.setCookies ??= []).push(raw[i + 1].toString('latin1'));
    if (!IDENTITY_LENGTHS.has(n.length)) continue;
    const name = n.toString('latin1').toLowerCase();
    if (!IDENTITY.has(name)) continue;
    const v = raw[i + 1].toString('latin1');
    if (name === 'x-spillover-service') id.service = id.service === undefined ? v : `${id.service},${v}`;
    else if (name === 'x-spillover-instance') id.instance = id.instance === undefined ? v : `${id.instance},${v}`;
    else if (!id.envoy?.split(',').includes(ENVOY_FLAG[name])) id.envoy = id.envoy ? `${id.envoy},${ENVOY_FLAG[name]}` : ENVOY_FLAG[name];
  }
  return id;
}

interface Exchange {
  raw?: RawResponse;
  /** performance.now() at send, at headers, at the end. */
  t0: number;
  tHeaders: number;
  t1: number;
  sentMs: number;
  kind?: string;
}

/** Sends and waits; an interruption is rethrown, any other failure becomes a status-0 response (k6). */
async function exchange(host: VuHost, vu: VuState, req: SendRequest, origin: string, res: K6Response): Promise<Exchange> {
  const headers: string[] = ['host', req.url.host];
  for (const k in req.headers) headers.push(k, req.headers[k]);
  const sentMs = preciseNowMs();
  const t0 = performance.now();
  const f = sharedTransport().request(
    origin,
    req.method,
    req.url.pathname + req.url.search,
    headers,
    req.body,
    req.responseType !== 'none',
  );
  const set = watch(vu, f);
  const timer = setTimeout(() => f.cut(timeoutError()), req.timeoutMs);
  try {
    const raw = await f.done;
    const t1 = performance.now();
    return { raw, t0, tHeaders: raw.headersAt, t1, sentMs };
  } catch (e) {
    const reason = e instanceof TransportError ? e.reason : e;
    if (reason instanceof Interrupt) throw reason;
    const ec = k6ErrorCode(reason, req.url);
    res.status = 0;
    res.error = ec.error;
    res.error_code = ec.code;
    host.log('warn', `Request Failed error="${req.method} ${req.url.href}": ${ec.error}`);
    const t1 = performance.now();
    return { t0, tHeaders: t1, t1, sentMs, kind: ec.kind };
  } finally {
    clearTimeout(timer);
    set.delete(f);
  }
}

function fillResponse(res: K6Response, req: SendRequest, x: Exchange, origin: string): Identity {
  const raw = x.raw;
  const id = raw ? scanHeaders(raw.rawHeaders) : { headerBytes: 17 };
  if (raw) {
    res.status = raw.status;
    res.setRawHeaders(raw.rawHeaders);
    if (req.responseType === 'text') res.body = raw.body.toString('utf8');
    else if (req.responseType === 'binary')
      res.body = raw.body.buffer.slice(raw.body.byteOffset, raw.body.byteOffset + raw.body.byteLength) as ArrayBuffer;
    else res.body = null;
    for (const c of id.setCookies ?? []) {
      req.jar.setFromResponse(req.url, c);
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (i > 0) (res.cookies[pair.slice(0, i).trim()] ??= []).push({ name: pair.slice(0, i).trim(), value: pair.slice(i + 1).trim() });
    }
  }
  res.status_text = res.status ? `${res.status}` : '';
  if (res.status >= 400) res.error_code = 1000 + res.status;
  const at = origin.indexOf('//') + 2;
  const colon = origin.lastIndexOf(':');
  res.remote_ip = origin.slice(at, colon).replace(/^\[|\]$/g, '');
  res.remote_port = Number(origin.slice(colon + 1));
  const ok = res.status !== 0;
  res.timings = {
    duration: x.t1 - x.t0,
    blocked: 0,
    connecting: 0,
    tls_handshaking: 0,
    sending: 0,
    waiting: ok ? x.tHeaders - x.t0 : x.t1 - x.t0,
    receiving: ok ? x.t1 - x.tHeaders : 0,
  };
  return id;
}

const TIMING_METRICS = ['blocked', 'connecting', 'tls_handshaking', 'sending', 'waiting', 'receiving'] as const;
const HTTP_METRIC_NAMES = TIMING_METRICS.map((k) => `http_req_${k}`);

/** k6's samples of one request, all with one tag set (one key computed once). */
function takeSamples(host: VuHost, vu: VuState, req: SendRequest, res: K6Response, endMs: number, x: Exchange, id: Identity): void {
  // k6: a script-set name tag replaces url too (keeps the cardinality low), as does http.url``.
  const urlTag = (req.tags?.name as string | undefined) ?? req.nameTag ?? req.url.href;
  const own: Record<string, unknown> = {
    method: req.method,
    url: urlTag,
    name: urlTag,
    status: String(res.status),
    proto: 'HTTP/1.1',
    group: vu.groupPath,
    ...req.tags,
    ...(req.tags?.name !== undefined ? { url: urlTag } : {}),
  };
  if (res.error) own.error = res.error;
  if (res.error_code) own.error_code = String(res.error_code);
  const expected = req.responseCallback ? req.responseCallback(res.status) : undefined;
  if (expected !== undefined) own.expected_response = String(expected);
  const tags = sampleTags(host, vu, own);
  const key = tagKey(tags);
  const s = host.store;
  s.add('http_reqs', 1, tags, endMs, undefined, key);
  s.add('http_req_duration', res.timings.duration, tags, endMs, { iter: String(vu.iterInScenario), vu: String(vu.id) }, key);
  for (let i = 0; i < TIMING_METRICS.length; i++) s.add(HTTP_METRIC_NAMES[i], res.timings[TIMING_METRICS[i]], tags, endMs, undefined, key);
  if (expected !== undefined) s.add('http_req_failed', expected ? 0 : 1, tags, endMs, undefined, key);
  let sent = req.method.length + req.url.pathname.length + req.url.search.length + 12 + (req.body?.length ?? 0);
  for (const k in req.headers) sent += k.length + req.headers[k].length + 4;
  const dataTags = sampleTags(host, vu, { group: vu.groupPath });
  const dataKey = tagKey(dataTags);
  s.add('data_sent', sent, dataTags, endMs, undefined, dataKey);
  s.add('data_received', (x.raw?.bodyBytes ?? 0) + id.headerBytes, dataTags, endMs, undefined, dataKey);
}

export async function send(host: VuHost, vu: VuState, req: SendRequest): Promise<K6Response> {
  const { origin } = await host.resolve(req.url);
  const res = new K6Response(host, req.method, req.url.href, req.headers, req.body);
  const x = await exchange(host, vu, req, origin, res);
  const endMs = x.sentMs + (x.t1 - x.t0);
  const id = fillResponse(res, req, x, origin);
  takeSamples(host, vu, req, res, endMs, x, id);
  const first = vu.intendedMs > 0;
  host.record({
    scenario: vu.scenario?.name ?? 'setup',
    iter: vu.iterInScenario,
    intendedMs: first && vu.intendedMs <= x.sentMs ? vu.intendedMs : x.sentMs,
    sentMs: x.sentMs,
    endMs,
    status: res.status,
    error: x.kind,
    method: req.method,
    url: req.url.href,
    service: id.service,
    instance: id.instance,
    envoy: id.envoy,
    arrival: first && vu.arrival,
  });
  vu.intendedMs = 0;
  return res;
}
