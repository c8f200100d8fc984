/**
 * The k6-compatible VU runtime on scripts written for these tests (test/fixtures/k6-vu): k6 modules,
 * lifecycle, options as k6 reads them, thresholds and exit codes, k6's outputs, and what is refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SpilloverError } from '../../src/errors.ts';
import { importK6 } from '../../src/load/k6-import.ts';
import { readScenario } from '../../src/load/scenario.ts';
import { asyncWrap } from '../../src/load/vu/async-transform.ts';
import { runVuLoad } from '../../src/load/vu/engine.ts';
import { MetricStore } from '../../src/load/vu/metric-store.ts';
import { normalizeOptions } from '../../src/load/vu/options.ts';
import { VuRuntime } from '../../src/load/vu/runtime.ts';
import { startCorpusServer } from './k6-corpus-server.ts';

const FIX = path.resolve('test/fixtures/k6-vu');
const runDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vu-run-'));
  fs.mkdirSync(path.join(d, 'raw'));
  return d;
};

describe('load/vu: k6-compatible VU runtime', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof startCorpusServer>>;
  before(async () => {
    server = await startCorpusServer();
  });
  after(async () => server.close());

  it('async transform: calls awaited inside functions that call, getters/comparators stay synchronous, __VU per VU', () => {
    const out = asyncWrap(
      'const f = (r) => r.status === 200; function g() { return a.b(c()).d(); } const o = { get x() { return h(); } }; use(__VU, __ITER);',
    );
    assert.match(out, /const f = \(r\) => r\.status === 200/);
    assert.match(out, /async function g\(\) \{ return \(await \(await a\.b\(\(await c\(\)\)\)\)\.d\(\)\); \}/);
    assert.match(out, /get x\(\) \{ return h\(\); \}/);
    assert.match(out, /use\(__k6vu\.id, __k6vu\.iter\)/);
  });

  it('runs a TypeScript script with local imports, setup/teardown/handleSummary, every k6 module used, k6 outputs', async () => {
    const dir = runDir();
    const outJson = path.join(dir, 'k6.json');
    const summaryExport = path.join(dir, 'export.json');
    const logs: string[] = [];
    const sc = await readScenario(path.join(FIX, 'features.ts'), { env: { BASE: server.origin }, outJson, summaryExport });
    assert.deepEqual(
      sc.scenarios.map((s) => [s.name, s.executor]),
      [
        ['shared', 'shared-iterations'],
        ['pervu', 'per-vu-iterations'],
      ],
    );
    const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: (l, m) => logs.push(`${l}: ${m}`), vuCwd: dir });
    assert.deepEqual(
      logs.filter((l) => l.startsWith('error')),
      [],
    );
    assert.equal(r.k6.exitCode, 0, JSON.stringify(r.k6.thresholds));
    assert.equal(r.scenarios.shared.iterationsCompleted, 6);
    assert.equal(r.scenarios.pervu.iterationsCompleted, 4);
    assert.ok(logs.includes('info: teardown t0k'));
    // handleSummary got k6's data shape and its outputs were honoured.
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'summary-of-handle.json'), 'utf8')), { iterations: 10, hits: 20 });
    assert.match(r.k6.stdout, /checks\.+: 100\.00% ✓ 40 ✗ 0/);
    assert.match(r.k6.stdout, /█ api/);
    // --summary-export: the legacy flat shape; thresholds true = failed.
    const exp = JSON.parse(fs.readFileSync(summaryExport, 'utf8'));
    assert.equal(exp.metrics.hits.count, 20);
    assert.equal(exp.metrics.checks.passes, 40);
    assert.equal(exp.metrics.hits.thresholds['count==20'], false);
    assert.equal(exp.root_group.groups.batch.checks['missing is 404'].passes, 10);
    // Spillover's own record: the setup request plus 5 per iteration, each with intended and sent times.
    const reqs = fs
      .readFileSync(path.join(dir, 'raw/requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(reqs.length, 1 + 10 * 5);
    assert.ok(reqs.every((q) => q.intended <= q.sent && q.sent <= q.end));
    // --out json: Metric then Point lines, and `spillover import k6` gives back the same requests.
    const lines = fs
      .readFileSync(outJson, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'Metric');
    const points = lines.filter((l) => l.type === 'Point' && l.metric === 'http_reqs');
    assert.equal(points.length, 51);
    assert.match(points[1].data.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const again = runDir();
    const imp = await importK6(outJson, again);
    assert.equal(imp.requests, 51);
    const back = fs
      .readFileSync(path.join(again, 'raw/requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(back.map((q) => q.status).sort(), reqs.map((q) => q.status).sort());
  });

  it('k6 defaults: no options = 1 VU × 1 iteration', async () => {
    const sc = await readScenario(path.join(FIX, 'default-one.js'), { env: { BASE: server.origin } });
    assert.deepEqual(
      sc.scenarios.map((s) => [s.executor, (s as { vus: number }).vus, (s as { iterations: number }).iterations]),
      [['per-vu-iterations', 1, 1]],
    );
    const r = await runVuLoad({ scenario: sc, runDir: runDir(), vuLog: () => undefined });
    assert.equal(r.iterationsCompleted, 1);
    assert.equal(r.started, 1);
  });

  it('abortOnFail with delayAbortEval ends the run early with exit code 99', async () => {
    const sc = await readScenario(path.join(FIX, 'abort.js'), { env: { BASE: server.origin } });
    const t = Date.now();
    const r = await runVuLoad({ scenario: sc, runDir: runDir(), vuLog: () => undefined });
    assert.equal(r.k6.exitCode, 99);
    assert.ok(Date.now() - t < 15_000, 'aborted well before the 20 s duration');
    assert.deepEqual(
      r.k6.thresholds.map((x) => x.ok),
      [false],
    );
  });

  it('refuses remote modules before anything starts, naming the line and the fix; built-in jslib modules are fine', async () => {
    await assert.rejects(readScenario(path.join(FIX, 'remote.js')), (e: unknown) => {
      assert.ok(e instanceof SpilloverError);
      assert.equal(e.problems.length, 1);
      assert.equal(e.problems[0].line, 3);
      assert.match(e.problems[0].message, /https:\/\/example\.com\/lib\/thing\.js/);
      assert.match(e.problems[0].fix!, /vendor it/);
      return true;
    });
  });

  it('a looping getter in the exports is an error within the time limit', async () => {
    const t = Date.now();
    await assert.rejects(readScenario(path.join(FIX, 'getter-loop.js'), { evalTimeoutMs: 300 }), /timed out|did not finish/);
    assert.ok(Date.now() - t < 5000);
  });

  it('options as k6 reads them: conflicts refused, externally-controlled gone', async () => {
    await assert.rejects(readScenario(path.join(FIX, 'bad-options.js')), /`duration` and `stages` options simultaneously is not allowed/);
    await assert.rejects(readScenario(path.join(FIX, 'externally.js')), /externally-controlled executor was removed in k6 v1/);
    const sc = await readScenario(path.join(FIX, 'default-one.js'), { cli: { vus: 3, duration: '2s' } });
    assert.deepEqual(
      sc.scenarios.map((s) => [s.executor, (s as { vus: number }).vus, (s as { duration: number }).duration]),
      [['constant-vus', 3, 2]],
    );
  });

  it('memory per VU of an http.get + check script stays under 1 MB', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const code = asyncWrap(`var k6_http = require('k6/http'); var k6 = require('k6');
      module.exports.default = function () { const r = k6_http.default.get('http://127.0.0.1:1/'); k6.check(r, { ok: (x) => x.status === 200 }); };`);
    const host = {
      store: new MetricStore(),
      http: {} as never,
      runTags: {},
      scriptDir: FIX,
      record: () => undefined,
      resolve: async () => ({ origin: '' }),
      log: () => undefined,
      execution: {} as never,
    };
    const rt = new VuRuntime(code, host, { globalEnv: {} });
    const vus = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 1; i <= 1000; i++) vus.push(await rt.init(rt.newState(i, {})));
    gc();
    const perVu = (process.memoryUsage().heapUsed - before) / 1000;
    assert.equal(vus.length, 1000);
    assert.ok(perVu < 1024 * 1024, `${(perVu / 1024).toFixed(1)} KiB per VU`);
  });
});

describe('load/vu: on the driver thread (the path experiments and spillover load take)', function () {
  this.timeout(60_000);
  it('a k6 script with logic runs through DriverThread and reports k6 outcome, --connect-to honoured', async () => {
    const { DriverThread } = await import('../../src/load/driver-thread.ts');
    const server = await startCorpusServer();
    try {
      const port = new URL(server.origin).port;
      // The script targets a name; --connect-to sends it to the loopback server with that Host, as in experiments.
      const sc = await readScenario(path.join(FIX, 'default-one.js'), {
        env: { BASE: 'http://svc.example.internal' },
        cli: { vus: 2, iterations: 3 },
      });
      assert.ok(sc.vu, 'not the plain-data fast path');
      const thread = await DriverThread.start(sc);
      const dir = runDir();
      const r = await thread
        .run({ scenario: sc, runDir: dir, t0Epoch: Date.now() + 100, connectTo: `127.0.0.1:${port}`, live: false })
        .finally(() => thread.close());
      assert.equal(r.iterationsCompleted, 3);
      assert.equal((r as unknown as { k6: { exitCode: number } }).k6.exitCode, 0);
      const reqs = fs
        .readFileSync(path.join(dir, 'raw/requests.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        reqs.map((q) => q.status),
        [200, 200, 200],
      );
      assert.ok(reqs.every((q) => q.url.startsWith('http://svc.example.internal/')));
    } finally {
      await server.close();
    }
  });

  it('a plain-data script keeps the fast path', async () => {
    const sc = await readScenario(path.resolve('scenarios/peak-load.js'), { env: { TARGET: 'http://127.0.0.1:1' } });
    assert.equal(sc.vu, undefined);
  });
});

describe('load/vu: k6/html', () => {
  it('finds elements with simple selectors and reads text, attributes and values', async () => {
    const { parseHTML } = await import('../../src/load/vu/k6-html.ts');
    const doc = parseHTML(
      '<form id="login"><input type="hidden" name="csrftoken" value="a&amp;b"><input name=user value=x><select name=s><option value=1>one<option value=2 selected>two</select></form><ul><li class="x y">one</li><li>two<br>three</li></ul><script>if (a < b) {}</script>',
    );
    assert.equal(doc.find('input[name=csrftoken]').attr('value'), 'a&b');
    assert.equal(doc.find('#login > input').size(), 2);
    assert.equal(doc.find('select').val(), '2');
    assert.equal(doc.find('ul li.y').text(), 'one');
    assert.equal(doc.find('li').eq(1).text(), 'twothree');
    assert.equal(doc.find('script').text(), 'if (a < b) {}');
    assert.throws(() => doc.find('li:nth-child(2)'), /does not support/);
  });
});

describe('load/vu: forms and links', function () {
  this.timeout(30_000);
  it('res.submitForm() posts the form fields with overrides; res.clickLink() follows the link', async () => {
    const server = await startCorpusServer();
    try {
      const sc = await readScenario(path.join(FIX, 'forms.js'), { env: { BASE: server.origin } });
      const logs: string[] = [];
      const r = await runVuLoad({ scenario: sc, runDir: runDir(), vuLog: (l, m) => logs.push(`${l}: ${m}`) });
      assert.deepEqual(
        logs.filter((l) => l.startsWith('error')),
        [],
      );
      assert.match(r.k6.stdout, /checks\.+: 100\.00% ✓ 2 ✗ 0/);
      assert.equal(r.started, 3);
    } finally {
      await server.close();
    }
  });
});

describe('load/vu: k6 execution shortcuts (DeriveScenariosFromShortcuts)', () => {
  const derive = (o: unknown) => normalizeOptions(o, {}, new Set(['default']));
  it('follows k6 order and rules', () => {
    assert.deepEqual(
      derive({ vus: 4 }).scenarios.map((s) => [s.executor, (s as { vus: number }).vus, (s as { iterations: number }).iterations]),
      [['shared-iterations', 4, 4]],
    );
    assert.equal(derive({ vus: 2, scenarios: { a: { executor: 'constant-vus', duration: '1s' } } }).scenarios[0].name, 'default');
    assert.equal(derive({ iterations: 5, duration: '10s' }).scenarios[0].executor, 'shared-iterations');
    assert.match(derive({ iterations: 5, stages: [{ duration: '1s', target: 1 }] }).problems[0].message, /`iterations` and `stages`/);
    assert.match(derive({ duration: '0s' }).problems[0].message, /more than 0/);
    assert.match(derive({ stages: [] }).warnings.join(), /1 iteration in 1 VU/);
    assert.deepEqual(
      derive({ VUS: 3, DURATION: '2s' }).scenarios.map((s) => s.executor),
      ['constant-vus'],
    );
  });
});
