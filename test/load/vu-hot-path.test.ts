/**
 * The VU runtime's hot path (issue 13, performance): what the faster request path must keep exactly —
 * k6's Response fields (headers decoded lazily, still in JSON.stringify), k6's error code for a timeout
 * over the dispatcher transport, the rehearsal before t0 (no request reaches the target, no state carries
 * into the real VUs), and the loop guard that ends an iteration that never yields.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readScenario } from '../../src/load/scenario.ts';
import { prewarmVuRun, runVuLoad } from '../../src/load/vu/engine.ts';
import { tagKey } from '../../src/load/vu/metric-store.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'vu-hot-'));

async function script(dir: string, body: string, env: Record<string, string> = {}) {
  const file = path.join(dir, 'script.js');
  fs.writeFileSync(file, body);
  return readScenario(file, { env, forceVu: true });
}

describe('load/vu: the hot path keeps k6 semantics', function () {
  this.timeout(60_000);
  let server: http.Server;
  let origin = '';
  const seen: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/hang')) return; // never answers
      if (req.url?.startsWith('/slow')) return void setTimeout(() => res.end('late'), 300);
      res.setHeader('x-thing', ['a', 'b']);
      res.setHeader('set-cookie', 'sid=42; Path=/');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('Response: canonical headers, repeated ones joined, cookies, request view and JSON.stringify(res) as plain fields', async () => {
    const dir = tmp();
    const sc = await script(
      dir,
      `import http from 'k6/http';
import { Counter } from 'k6/metrics';
const bad = new Counter('bad');
export const options = { iterations: 1 };
export default function () {
  const r = http.get(__ENV.BASE + '/x', { headers: { 'x-req': '1' } });
  const j = JSON.parse(JSON.stringify(r));
  const want = [r.headers['Content-Type'] === 'application/json', r.headers['X-Thing'] === 'a, b', r.cookies.sid[0].value === '42',
    r.request.headers['X-Req'][0] === '1', j.headers['X-Thing'] === 'a, b', j.status === 200, j.request.method === 'GET', r.json('ok') === true,
    typeof r.timings.waiting === 'number' && r.timings.duration >= r.timings.waiting];
  want.forEach((ok, i) => { if (!ok) { console.log('failed #' + i); bad.add(1); } });
}
`,
      { BASE: origin },
    );
    const logs: string[] = [];
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: (l, m) => logs.push(`${l}: ${m}`) });
    assert.deepEqual(logs, []);
    assert.equal(r.ok, 1);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'raw', 'requests.ndjson'), 'utf8').trim());
    assert.equal(rec.status, 200);
    assert.equal(rec.url, `${origin}/x`);
    assert.ok(rec.sent >= rec.intended && rec.end >= rec.sent);
  });

  it('a request timeout is status 0 with k6 error_code 1050, and the iteration goes on', async () => {
    const dir = tmp();
    const sc = await script(
      dir,
      `import http from 'k6/http';
import { check } from 'k6';
export const options = { iterations: 1 };
export default function () {
  const r = http.get(__ENV.BASE + '/hang', { timeout: '200ms' });
  check(r, { 'timed out as k6': (x) => x.status === 0 && x.error_code === 1050 && x.error === 'request timeout' });
}
`,
      { BASE: origin },
    );
    const t = Date.now();
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: () => undefined });
    assert.ok(Date.now() - t < 5000);
    assert.equal(r.failed, 1);
    assert.match(r.k6.stdout, /✓ timed out as k6/);
  });

  it('the rehearsal before t0 sends nothing to the target and leaves no module state in the real VUs', async () => {
    const dir = tmp();
    const sc = await script(
      dir,
      `import http from 'k6/http';
let n = 0;
export const options = { iterations: 2, vus: 1 };
export default function () { n++; http.get(__ENV.BASE + '/count?n=' + n + '&iter=' + __ITER); }
`,
      { BASE: origin },
    );
    seen.length = 0;
    await prewarmVuRun(sc);
    assert.deepEqual(seen, [], 'the rehearsal went to its private server');
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: () => undefined });
    assert.equal(r.ok, 2);
    assert.deepEqual(seen, ['/count?n=1&iter=0', '/count?n=2&iter=1']);
  });

  it('a loop that never yields ends at the hard end, as an interrupted iteration, naming the script and line', async () => {
    const dir = tmp();
    const sc = await script(
      dir,
      `export const options = { scenarios: { s: { executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '0s' } } };
export default function () {
  let x = 0;
  while (x >= 0) x = (x + 1) % 1000;
}
`,
    );
    const logs: string[] = [];
    const t = Date.now();
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: (l, m) => logs.push(`${l}: ${m}`) });
    assert.ok(Date.now() - t < 10_000);
    assert.equal(r.interrupted, 1);
    assert.equal(r.iterationsCompleted, 0);
    assert.equal(logs.length, 1);
    assert.match(logs[0], /^error: iteration interrupted: a loop at .*script\.js:4: `while \(x >= 0\)` never yields/);
  });

  it('http.asyncRequest gives a promise (.then works), and one the script never awaits still ends inside its iteration', async () => {
    const dir = tmp();
    const sc = await script(
      dir,
      `import http from 'k6/http';
export const options = { iterations: 2 };
export default function () {
  http.asyncRequest('GET', __ENV.BASE + '/slow'); // never awaited: k6 waits for it before the next iteration
  http.asyncRequest('GET', __ENV.BASE + '/x').then((r) => console.log('then ' + r.status));
}
`,
      { BASE: origin },
    );
    const logs: string[] = [];
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: (l, m) => logs.push(`${l}: ${m}`) });
    assert.deepEqual(logs, ['info: then 200', 'info: then 200']);
    assert.equal(r.iterationsCompleted, 2);
    assert.equal(r.ok, 4);
    const recs = fs
      .readFileSync(path.join(dir, 'raw', 'requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number; sent: number; end: number; url: string; iter: number });
    assert.ok(recs.every((x) => x.status === 200));
    // One VU: the second iteration sends nothing before the first iteration's slow request has ended.
    const slowFirst = recs.find((x) => x.url.endsWith('/slow') && x.iter === 0)!;
    const second = recs.filter((x) => x.iter === 1);
    assert.equal(second.length, 2);
    assert.ok(
      second.every((x) => x.sent >= slowFirst.end),
      `iteration 1 sent at ${second.map((x) => x.sent)} s, before iteration 0's slow request ended at ${slowFirst.end} s`,
    );
  });

  it('tag keys do not depend on the order tags were added in', () => {
    assert.equal(tagKey({ a: '1', b: '2' }), tagKey({ b: '2', a: '1' }));
    assert.notEqual(tagKey({ a: '1', b: '2' }), tagKey({ a: '1', b: '3' }));
  });
});
