/**
 * k6's Response object (k6/http): status, body, headers with Go's canonical names, timings in ms,
 * json() with k6's gjson-style selector for simple paths, error/error_code, html() (k6-html.ts).
 */
import type { VuHost } from './vu-state.ts';
import { parseHTML, type Selection } from './k6-html.ts';

export interface Timings {
  duration: number;
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
}

/** Go's http.CanonicalHeaderKey: content-type → Content-Type. */
export const canonicalHeader = (k: string) => k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

export class K6Response {
  status = 0;
  status_text = '';
  proto = 'HTTP/1.1';
  url: string;
  body: string | ArrayBuffer | null = null;
  headers: Record<string, string> = {};
  cookies: Record<string, Array<{ name: string; value: string }>> = {};
  timings: Timings = { duration: 0, blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 0, receiving: 0 };
  error = '';
  error_code = 0;
  remote_ip = '';
  remote_port = 0;
  tls_version = '';
  ocsp = {};
  request: { method: string; url: string; headers: Record<string, string[]>; body: string; cookies: Record<string, unknown> };
  private cachedJson?: { text: string; value: unknown };
  /** Set by k6-http: sends a follow-up request for submitForm/clickLink. */
  send?: (method: string, url: string, body: unknown, params?: Record<string, unknown>) => Promise<K6Response>;

  constructor(
    private readonly host: VuHost,
    method: string,
    url: string,
    reqHeaders: Record<string, string>,
    reqBody: string,
  ) {
    this.url = url;
    const headers: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(reqHeaders)) headers[canonicalHeader(k)] = [v];
    this.request = { method, url, headers, body: reqBody, cookies: {} };
  }

  json(selector?: string): unknown {
    if (typeof this.body !== 'string')
      throw new Error(
        'cannot parse the response body as JSON: the body is not text (responseType "binary"/"none", or discardResponseBodies)',
      );
    let value: unknown;
    if (this.cachedJson?.text === this.body) value = this.cachedJson.value;
    else {
      try {
        value = this.host.realm.parseJSON(this.body);
      } catch (e) {
        throw new Error(`cannot parse json due to an error at the response body: ${(e as Error).message}`);
      }
      this.cachedJson = { text: this.body, value };
    }
    if (selector === undefined) return value;
    // gjson's basic paths: a.b.0.c (escapes with \\.); no wildcards, modifiers or queries.
    if (/[*?#|@!=<>]/.test(selector))
      throw new Error(
        `res.json("${selector}"): the embedded engine supports plain gjson paths (a.b.0.c) only; use res.json() and JavaScript`,
      );
    let cur: unknown = value;
    for (const part of selector.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'))) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  }

  /** k6's res.html(selector?): the document, or what the selector finds in it (k6-html.ts). */
  html(selector?: string): Selection {
    if (typeof this.body !== 'string')
      throw new Error('res.html(): the body is not text (responseType "binary"/"none", or discardResponseBodies)');
    const doc = parseHTML(this.body);
    return selector === undefined ? doc : doc.find(selector);
  }

  /** k6: follow the first link matching `selector` (default "a[href]"). */
  clickLink(o: { selector?: string; params?: Record<string, unknown> } = {}): Promise<K6Response> {
    const href = this.html()
      .find(o.selector ?? 'a[href]')
      .attr('href');
    if (href === undefined) throw new Error(`res.clickLink(): no element matches "${o.selector ?? 'a[href]'}"`);
    return this.send!('GET', new URL(href, this.url).href, null, o.params);
  }

  /** k6: submit the form matching formSelector (default "form") with its fields, `fields` overriding them. */
  submitForm(
    o: { formSelector?: string; fields?: Record<string, string>; submitSelector?: string; params?: Record<string, unknown> } = {},
  ): Promise<K6Response> {
    const form = this.html()
      .find(o.formSelector ?? 'form')
      .first();
    if (form.size() === 0) throw new Error(`res.submitForm(): no form matches "${o.formSelector ?? 'form'}"`);
    const fields: Record<string, string> = {};
    for (const el of form.find('input[name], select[name], textarea[name]').toArray()) {
      const type = (el.attr('type') ?? '').toLowerCase();
      if (['submit', 'button', 'image', 'reset'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && el.attr('checked') === undefined) continue;
      fields[el.attr('name')!] = el.val() ?? '';
    }
    if (o.submitSelector) {
      const b = form.find(o.submitSelector);
      if (b.attr('name')) fields[b.attr('name')!] = b.attr('value') ?? '';
    }
    Object.assign(fields, o.fields ?? {});
    const method = (form.attr('method') ?? 'GET').toUpperCase();
    const action = new URL(form.attr('action') ?? '', this.url);
    if (method === 'GET') {
      for (const [k, v] of Object.entries(fields)) action.searchParams.set(k, v);
      return this.send!('GET', action.href, null, o.params);
    }
    return this.send!(method, action.href, fields, o.params);
  }
}

/** k6's error codes (lib/netext/httpext/error_codes.go) for what Node reports. */
export function k6ErrorCode(err: unknown, url: URL): { error: string; code: number; kind: string } {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  const addr = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
  switch (code) {
    case 'ECONNREFUSED':
      return { error: `dial tcp ${addr}: connect: connection refused`, code: 1212, kind: 'refused' };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return { error: `read tcp ${addr}: read: connection reset by peer`, code: 1220, kind: 'reset' };
    case 'EPIPE':
      return { error: `write tcp ${addr}: write: broken pipe`, code: 1201, kind: 'reset' };
    case 'ENOTFOUND':
      return { error: `lookup ${url.hostname}: no such host`, code: 1101, kind: 'other' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { error: `dial tcp ${addr}: i/o timeout`, code: 1211, kind: 'timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return { error: 'request timeout', code: 1050, kind: 'timeout' };
  }
  if (e?.name === 'TimeoutError') return { error: 'request timeout', code: 1050, kind: 'timeout' };
  if (e?.name === 'AbortError' || e?.name === 'Interrupt') return { error: 'context canceled', code: 1000, kind: 'aborted' };
  return { error: e?.message ?? String(err), code: 1000, kind: 'other' };
}
