/**
 * The loopback stand-in for the hosts the corpus scripts were written against (httpbin.org,
 * quickpizza.grafana.com, test.k6.io, localhost:8080/3333): the endpoints and response shapes those
 * scripts read, implemented from httpbin's and QuickPizza's documented behaviour.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const INGREDIENTS = ['tomato', 'mozzarella', 'basil', 'olives'];

function cookiesOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function form(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname;
  const json = (code: number, v: unknown, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(v));
  };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.replace(/(^|-)([a-z])/g, (_m, d, c) => d + c.toUpperCase())] = String(v);
  const echo = () => {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(body);
    } catch {
      /* not JSON */
    }
    const isForm = (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
    return {
      args: Object.fromEntries(url.searchParams),
      headers,
      url: `http://${req.headers.host}${req.url}`,
      data: body,
      form: isForm ? form(body) : {},
      json: parsed,
      method: req.method,
    };
  };
  if (['/get', '/post', '/put', '/patch', '/delete', '/anything'].includes(p)) return json(200, echo());
  if (p === '/cookies') return json(200, { cookies: cookiesOf(req) });
  if (p === '/cookies/set') {
    const set = [...url.searchParams].map(([k, v]) => `${k}=${v}; Path=/`);
    res.writeHead(302, { location: '/cookies', 'set-cookie': set });
    return void res.end();
  }
  let m = /^\/basic-auth\/([^/]+)\/([^/]+)$/.exec(p);
  if (m) {
    const want = `Basic ${Buffer.from(`${m[1]}:${m[2]}`).toString('base64')}`;
    return req.headers.authorization === want ? json(200, { authenticated: true, user: m[1] }) : json(401, { authenticated: false });
  }
  m = /^\/(?:relative-)?redirect\/(\d+)$/.exec(p);
  if (m) {
    const n = Number(m[1]);
    res.writeHead(302, { location: n <= 1 ? '/get' : `/relative-redirect/${n - 1}` });
    return void res.end();
  }
  if ((m = /^\/status\/(\d+)$/.exec(p))) {
    res.writeHead(Number(m[1]));
    return void res.end();
  }
  if (p === '/form') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return void res.end(
      '<form method="post" action="/post"><input type="hidden" name="csrftoken" value="tok"><input name="login"><input type="checkbox" name="remember"><input type="submit" name="go" value="Go"></form><a href="/get?from=link">next</a>',
    );
  }
  if (p === '/pi.php') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('3.14');
  }
  // QuickPizza
  if (p === '/api/pizza') {
    const n = 2 + (body.length % 3);
    return json(200, {
      pizza: {
        id: 1 + (body.length % 100),
        name: 'Loopback Margherita',
        dough: { name: 'thin' },
        ingredients: INGREDIENTS.slice(0, n).map((name) => ({ name })),
        tool: 'Pizza cutter',
      },
      calories: 900,
      vegetarian: true,
    });
  }
  if (p === '/api/csrf-token') return json(200, { csrf: 'loopbackcsrf' }, { 'set-cookie': 'csrf_token=loopbackcsrf; Path=/' });
  if (p === '/api/users/token/login') return json(200, { token: 'abcdef0123456789' });
  if (p === '/api/users') return json(201, {});
  if (p === '/api/ratings') return json(req.method === 'POST' ? 201 : 200, { id: 1, stars: 5, pizza_id: 1 });
  const type = p.endsWith('.css')
    ? 'text/css'
    : p.endsWith('.js')
      ? 'application/javascript'
      : p.endsWith('.ico') || p.endsWith('.jpg')
        ? 'image/x-icon'
        : 'text/html; charset=utf-8';
  res.writeHead(200, { 'content-type': type });
  res.end(
    type.startsWith('text/html')
      ? '<html><body><h1>Looking to break out of your pizza routine?</h1><p class="description">This is a replacement of the service test.k6.io</p></body></html>'
      : 'ok',
  );
}

export async function startCorpusServer(): Promise<{ origin: string; close(): Promise<void>; requests: () => number }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => handle(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => n,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
