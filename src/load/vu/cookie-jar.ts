/**
 * k6's per-VU cookie jar (`http.cookieJar()`): Set-Cookie from responses are stored and sent back on
 * later requests to the same host and path, and the jar is emptied between iterations unless
 * `noCookiesReset`. Domain, path, expiry and max-age are honoured; attributes that need TLS or a browser
 * (Secure on http, SameSite) are ignored.
 */
export interface Cookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  http_only: boolean;
  secure: boolean;
}

export class CookieJar {
  private readonly cookies: Cookie[] = [];

  clearAll(): void {
    this.cookies.length = 0;
  }

  setFromResponse(url: URL, header: string): void {
    const [pair, ...attrs] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const c: Cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      domain: url.hostname,
      path: '/',
      expires: 0,
      http_only: false,
      secure: false,
    };
    for (const a of attrs) {
      const [k, ...v] = a.split('=');
      const key = k.trim().toLowerCase();
      const val = v.join('=').trim();
      if (key === 'domain' && val) c.domain = val.replace(/^\./, '');
      else if (key === 'path' && val) c.path = val;
      else if (key === 'expires') c.expires = Date.parse(val) || 0;
      else if (key === 'max-age') c.expires = Number(val) <= 0 ? 1 : Date.now() + Number(val) * 1000;
      else if (key === 'httponly') c.http_only = true;
      else if (key === 'secure') c.secure = true;
    }
    this.put(c);
  }

  set(url: string, name: string, value: string, o: { domain?: string; path?: string; expires?: string; max_age?: number } = {}): void {
    const u = new URL(url);
    this.put({
      name,
      value: String(value),
      domain: o.domain ?? u.hostname,
      path: o.path ?? '/',
      expires: o.max_age !== undefined ? Date.now() + o.max_age * 1000 : o.expires ? Date.parse(o.expires) : 0,
      http_only: false,
      secure: false,
    });
  }

  private put(c: Cookie): void {
    const i = this.cookies.findIndex((x) => x.name === c.name && x.domain === c.domain && x.path === c.path);
    if (i >= 0) this.cookies.splice(i, 1);
    if (c.expires !== 0 && c.expires <= Date.now()) return;
    this.cookies.push(c);
  }

  forUrl(url: URL): Cookie[] {
    const now = Date.now();
    return this.cookies.filter(
      (c) =>
        (c.expires === 0 || c.expires > now) &&
        (url.hostname === c.domain || url.hostname.endsWith(`.${c.domain}`)) &&
        (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/'),
    );
  }

  /** `jar.cookiesForURL(url)`: name → list of values, as k6. */
  cookiesForURL(url: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.forUrl(new URL(url))) (out[c.name] ??= []).push(c.value);
    return out;
  }

  clear(url: string): void {
    const u = new URL(url);
    for (const c of this.forUrl(u)) this.cookies.splice(this.cookies.indexOf(c), 1);
  }

  delete(url: string, name: string): void {
    const u = new URL(url);
    for (const c of this.forUrl(u)) if (c.name === name) this.cookies.splice(this.cookies.indexOf(c), 1);
  }
}
