import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { runLoad, warmUp } from '../../src/load/driver.ts';
import { directScenario, readScenario } from '../../src/load/scenario.ts';
import { planSchedule } from '../../src/load/schedule.ts';
import { SpilloverError } from '../../src/errors.ts';
import type { RequestRecord, LoadTick } from '../../src/contracts/raw.ts';
import type { Scenario } from '../../src/load/types.ts';

type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A tiny loopback server that remembers what it saw. */
async function server(behaviour: Behaviour) {
  const seen: Array<{ rid: string; host: string }> = [];
  let active = 0;
  let maxActive = 0;
  const s = http.createServer((req, res) => {
    seen.push({ rid: String(req.headers['x-request-id']), host: String(req.headers.host) });
    active++;
    maxActive = Math.max(maxActive, active);
    res.on('close', () => active--);
    behaviour(req, res);
  });
  s.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as AddressInfo).port,
    seen,
    maxActive: () => maxActive,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
const ok: Behaviour = (_req, res) => {
  res.setHeader('x-spillover-service', 'A');
  res.setHeader('x-spillover-instance', 'a-0');
  res.end('ok');
};
const hang: Behaviour = () => {};

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-load-'));
const readNd = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const quiet = { live: false };
const t0Soon = () => Date.now() + 50;

describe('load/driver: real runs against a loopback server', function () {
  this.timeout(20_000);
  before(() => warmUp());

  it('follows the plan of a ramping-arrival-rate script: one record per started iteration at its planned time', async () => {
    const srv = await server(ok);
    const dir = tmp();
    const script = path.join(dir, 'ramp.js');
    fs.writeFileSync(
      script,
      `import http from 'k6/http';
export const requests = [{ method: 'GET', url: __ENV.TARGET + '/work' }];
export const options = { scenarios: { ramp: { executor: 'ramping-arrival-rate', startRate: 50, timeUnit: '1s',
  preAllocatedVUs: 20, maxVUs: 50, gracefulStop: '2s', stages: [{ duration: '1s', target: 200 }, { duration: '500ms', target: 200 }] } } };
export default function () { for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers }); }
`,
    );
    const scenario = await readScenario(script, { env: { TARGET: `http://127.0.0.1:${srv.port}` } });
    const [plan] = planSchedule(scenario);
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), ...quiet });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(res.started + res.dropped, plan.times.length, 'every planned iteration is started or dropped');
    assert.equal(recs.length, res.started);
    assert.equal(res.completed, res.started);
    for (const r of recs) {
      assert.ok(
        Math.abs(r.intended - plan.times[r.iter]) < 1e-5,
        `iteration ${r.iter}: intended ${r.intended}, plan ${plan.times[r.iter]}`,
      );
      assert.ok(r.sent >= r.intended - 1e-6 && r.end >= r.sent, `times ordered for ${r.id}`);
      assert.equal(r.status, 200);
      assert.equal(r.service, 'A');
      assert.equal(r.instance, 'a-0');
    }
    assert.equal(new Set(recs.map((r) => r.rid)).size, recs.length, 'request ids are unique');
    assert.deepEqual(
      new Set(srv.seen.map((s) => s.rid)),
      new Set(recs.map((r) => r.rid)),
      'the server saw exactly the recorded x-request-ids',
    );
    const lags = recs.map((r) => (r.sent - r.intended) * 1000).sort((a, b) => a - b);
    console.log(
      `      start lag vs plan: p50 ${lags[Math.floor(lags.length / 2)].toFixed(3)} ms, p99 ${lags[Math.floor(lags.length * 0.99)].toFixed(3)} ms, n=${lags.length}, dropped=${res.dropped} (driver HDR p99 ${res.startLagMs.p99} ms)`,
    );
    const ticks = readNd<LoadTick>(path.join(dir, 'raw/load.ndjson'));
    assert.equal(
      ticks.reduce((a, t) => a + t.target, 0),
      plan.times.length,
    );
    assert.equal(
      ticks.reduce((a, t) => a + t.dropped, 0),
      res.dropped,
    );
    assert.ok(fs.statSync(res.files.latencyHdr).size > 0);
  });

  it('drops (never queues) iterations when every slot is busy', async () => {
    const srv = await server((_req, res) => setTimeout(() => res.end('slow'), 400));
    const dir = tmp();
    const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 20, duration: 1, preAllocatedVUs: 2, maxVUs: 2 });
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), ...quiet });
    await srv.close();
    assert.equal(res.started + res.dropped, 20);
    assert.ok(res.dropped > 0);
    assert.ok(srv.maxActive() <= 2, `server saw ${srv.maxActive()} concurrent requests with 2 slots`);
    assert.equal(readNd(path.join(dir, 'raw/requests.ndjson')).length, res.started);
  });

  it('cuts in-flight iterations at gracefulStop and records them as aborted', async () => {
    const srv = await server(hang);
    const dir = tmp();
    const scenario = directScenario({
      url: `http://127.0.0.1:${srv.port}/`,
      rate: 5,
      duration: 0.5,
      gracefulStop: 0.2,
      preAllocatedVUs: 10,
    });
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), ...quiet });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(res.started, 3);
    assert.equal(res.interrupted, 3);
    assert.deepEqual(
      recs.map((r) => [r.status, r.error]),
      [
        [0, 'aborted'],
        [0, 'aborted'],
        [0, 'aborted'],
      ],
    );
  });

  it('times requests out and says so', async () => {
    const srv = await server(hang);
    const dir = tmp();
    const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 2, duration: 0.5, preAllocatedVUs: 2 });
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), requestTimeoutMs: 150, ...quiet });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(res.failed, 1);
    assert.equal(recs[0].error, 'timeout');
    assert.ok(recs[0].end - recs[0].sent >= 0.15);
  });

  it('a target that went away (connection refused, reset mid-response) fails each request and the run goes on', async () => {
    // Half the requests are answered, then the server dies: with a connection per slot, an erroring
    // connection is handed back and reused by the iterations its error callback fires.
    const srv = await server((req, res) => {
      if (Number(String(req.headers['x-request-id']).split('-')[1]) % 3 === 0) req.socket.destroy();
      else ok(req, res);
    });
    const dir = tmp();
    const scenario = directScenario({
      url: `http://127.0.0.1:${srv.port}/`,
      rate: 400,
      duration: 1,
      preAllocatedVUs: 4,
      maxVUs: 8,
      gracefulStop: 1,
    });
    setTimeout(() => void srv.close(), 500);
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), requestTimeoutMs: 2000, ...quiet });
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(recs.length, res.started);
    assert.equal(res.started + res.dropped, 400);
    const kinds = new Set(recs.map((r) => r.error ?? 'ok'));
    for (const k of ['ok', 'reset', 'refused']) assert.ok(kinds.has(k), `${k} among ${[...kinds].join(', ')}`);
  });

  it('stops at once on abort and keeps every started request in the file', async () => {
    const srv = await server(hang);
    const dir = tmp();
    const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 50, duration: 30, preAllocatedVUs: 100 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), signal: ac.signal, abortGraceMs: 100, ...quiet });
    await srv.close();
    assert.equal(res.aborted, true);
    assert.ok(res.started > 0 && res.started < 1500);
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(recs.length, res.started);
    assert.ok(recs.every((r) => r.error === 'aborted'));
  });

  it('records Envoy overload signals and non-2xx statuses as failed', async () => {
    const srv = await server((_req, res) => {
      res.setHeader('x-envoy-overloaded', 'true');
      res.statusCode = 503;
      res.end('overflow');
    });
    const dir = tmp();
    const res = await runLoad({
      scenario: directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 4, duration: 0.5 }),
      runDir: dir,
      t0Epoch: t0Soon(),
      ...quiet,
    });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.equal(res.failed, 2);
    assert.deepEqual(
      recs.map((r) => [r.status, r.envoy]),
      [
        [503, 'overloaded'],
        [503, 'overloaded'],
      ],
    );
  });

  it('--connect-to sends to the given address with the URL host as Host header', async () => {
    const srv = await server(ok);
    const dir = tmp();
    const scenario = directScenario({ url: 'http://a.istio.svc.cluster.local/work', rate: 4, duration: 0.5 });
    await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), connectTo: `127.0.0.1:${srv.port}`, ...quiet });
    await srv.close();
    assert.deepEqual(
      srv.seen.map((s) => s.host),
      ['a.istio.svc.cluster.local', 'a.istio.svc.cluster.local'],
    );
  });

  it('refuses non-loopback targets before sending anything', async () => {
    const dir = tmp();
    await assert.rejects(
      runLoad({ scenario: directScenario({ url: 'http://192.0.2.10/x', rate: 1, duration: 1 }), runDir: dir, ...quiet }),
      SpilloverError,
    );
    await assert.rejects(
      runLoad({
        scenario: directScenario({ url: 'http://127.0.0.1/x', rate: 1, duration: 1 }),
        runDir: dir,
        connectTo: '10.0.0.1:80',
        ...quiet,
      }),
      /outside loopback/,
    );
    assert.equal(fs.existsSync(path.join(dir, 'raw/requests.ndjson')), false);
  });

  it('serves valid Prometheus exposition with k6-like names during the run', async () => {
    const srv = await server(ok);
    const dir = tmp();
    let body = '';
    let contentType = '';
    const scenario = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 20, duration: 1.5 });
    const res = await runLoad({
      scenario,
      runDir: dir,
      t0Epoch: t0Soon(),
      metricsPort: 0,
      ...quiet,
      onMetricsListening: (port) =>
        setTimeout(async () => {
          const r = await fetch(`http://127.0.0.1:${port}/metrics`);
          contentType = r.headers.get('content-type') ?? '';
          body = await r.text();
        }, 1200),
    });
    await srv.close();
    assert.ok(res.metricsPort! > 0);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    for (const name of ['k6_http_reqs_total', 'k6_dropped_iterations_total', 'k6_vus', 'k6_vus_max', 'k6_http_req_duration_seconds_bucket'])
      assert.match(body, new RegExp(`^${name}[{ ]`, 'm'), name);
    const sample =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[+-]?\d+)?|[+-]Inf|NaN)( \d+)?$/;
    for (const line of body.split('\n')) if (line && !line.startsWith('#')) assert.match(line, sample);
    assert.match(body, /^k6_http_reqs_total\{scenario="default",status="200"\} [1-9]\d*$/m);
  });

  it('runs a constant-vus scenario as a closed loop with at most `vus` requests in flight', async () => {
    const srv = await server((_req, res) => setTimeout(() => res.end('ok'), 20));
    const dir = tmp();
    const base = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 1, duration: 1 }).scenarios[0];
    const scenario: Scenario = {
      timeScale: 1,
      warnings: [],
      scenarios: [{ ...base, executor: 'constant-vus', vus: 3, duration: 0.6, gracefulStop: 1 } as never],
    };
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), ...quiet });
    await srv.close();
    assert.ok(srv.maxActive() <= 3);
    assert.ok(res.iterations >= 3);
    assert.equal(res.dropped, 0);
    assert.equal(readNd(path.join(dir, 'raw/requests.ndjson')).length, res.started);
  });

  it('runs ramping-vus: VU count follows the stages, ramp-down cuts after gracefulRampDown', async () => {
    const srv = await server((_req, res) => setTimeout(() => res.end('ok'), 150));
    const dir = tmp();
    const base = directScenario({ url: `http://127.0.0.1:${srv.port}/`, rate: 1, duration: 1 }).scenarios[0];
    const spec = {
      ...base,
      executor: 'ramping-vus',
      startVUs: 0,
      gracefulRampDown: 0.02,
      gracefulStop: 0.02,
      stages: [
        { duration: 0.3, target: 3 },
        { duration: 0, target: 1 },
        { duration: 0.4, target: 1 },
      ],
    };
    const res = await runLoad({
      scenario: { timeScale: 1, warnings: [], scenarios: [spec as never] },
      runDir: dir,
      t0Epoch: t0Soon(),
      ...quiet,
    });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    assert.ok(srv.maxActive() <= 3, `max concurrency ${srv.maxActive()}`);
    assert.equal(recs.length, res.started);
    // The jump to 1 VU at 0.3 s removes VU 2 in the middle of its 150 ms request: cut after 20 ms grace.
    assert.ok(res.interrupted >= 1, `interrupted ${res.interrupted}`);
    assert.ok(
      recs.some((r) => r.error === 'aborted' && r.end >= 0.3 && r.end < 0.45),
      'a request cut shortly after the ramp-down',
    );
    assert.ok(recs.filter((r) => r.error === 'aborted').every((r) => r.end < 0.45 || r.end >= 0.7));
  });

  it('runs several scenarios at once, each on its own plan and slot pool', async () => {
    const srv = await server(ok);
    const dir = tmp();
    const script = path.join(dir, 'two.js');
    fs.writeFileSync(
      script,
      `import http from 'k6/http';
export const requests = [{ method: 'GET', url: __ENV.TARGET + '/x' }];
export const options = { scenarios: {
  steady: { executor: 'constant-arrival-rate', rate: 40, timeUnit: '1s', duration: '1s', preAllocatedVUs: 5 },
  late: { executor: 'ramping-arrival-rate', startTime: '300ms', startRate: 0, preAllocatedVUs: 5, stages: [{ duration: '600ms', target: 60 }] } } };
export default function () { for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers }); }
`,
    );
    const scenario = await readScenario(script, { env: { TARGET: `http://127.0.0.1:${srv.port}` } });
    const plan = new Map(planSchedule(scenario).map((p) => [p.scenario, p.times]));
    const res = await runLoad({ scenario, runDir: dir, t0Epoch: t0Soon(), ...quiet });
    await srv.close();
    const recs = readNd<RequestRecord>(path.join(dir, 'raw/requests.ndjson'));
    for (const name of ['steady', 'late']) {
      const c = res.scenarios[name];
      assert.equal(c.iterations + c.dropped, plan.get(name)!.length, name);
      const mine = recs.filter((r) => r.scenario === name);
      assert.equal(mine.length, c.started);
      for (const r of mine) assert.ok(Math.abs(r.intended - plan.get(name)![r.iter]) < 1e-5);
    }
    assert.ok(plan.get('late')![0] > 0.3, 'startTime offsets the second scenario');
  });
});
