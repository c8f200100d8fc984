/**
 * The sandbox of the VU runtime (src/load/vu/realm-guard.ts): a script must not reach the host's
 * `process` — the classic node:vm escape walks `.constructor.constructor` of any host object to the
 * host's Function constructor. test/fixtures/k6-vu/escape.js tries every vector we know (module
 * objects, globals, responses, selections, callbacks' arguments, thrown host errors, host promises,
 * buffers, V8 call sites); each must be refused. A control shows the probe does detect an escape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { readScenario } from '../../src/load/scenario.ts';
import { runVuLoad } from '../../src/load/vu/engine.ts';
import { startCorpusServer } from './k6-corpus-server.ts';

const FIX = path.resolve('test/fixtures/k6-vu');

describe('load/vu: the sandbox (no way from the script to the host process)', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof startCorpusServer>>;
  before(async () => {
    server = await startCorpusServer();
  });
  after(async () => server.close());

  it('control: the probe detects the escape through a host function in a plain vm context', () => {
    const ctx = vm.createContext({ hostFn: () => 1 }, { codeGeneration: { strings: false, wasm: false } });
    const got = vm.runInContext(`typeof hostFn.constructor('return process')().pid`, ctx) as string;
    assert.equal(got, 'number', 'codeGeneration:false does not bind the host realm: this is the hole the guard closes');
  });

  it('refuses every vector in the init context and in VU code; the script still runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vu-sandbox-'));
    fs.mkdirSync(path.join(dir, 'raw'));
    try {
      const logs: string[] = [];
      const sc = await readScenario(path.join(FIX, 'escape.js'), { env: { BASE: server.origin }, forceVu: true });
      const r = await runVuLoad({ scenario: sc, runDir: dir, vuLog: (l, m) => logs.push(`${l}: ${m}`), vuCwd: dir });
      const line = logs.find((l) => l.includes('ESCAPE-RESULTS '));
      assert.ok(line, `the script reported its probes (logs: ${logs.join('\n')})`);
      const results = JSON.parse(line.slice(line.indexOf('ESCAPE-RESULTS ') + 15)) as Record<string, string>;
      assert.ok(Object.keys(results).length >= 67, `every probe ran (${Object.keys(results).length})`);
      const escaped = Object.entries(results).filter(([, v]) => v === 'ESCAPED');
      assert.deepEqual(escaped, [], 'no probe reached the host process');
      // A probe that only "failed" because the script was broken is not a defence: thrown host errors
      // must have been thrown, and the code-generation refusals must be EvalErrors.
      for (const [k, v] of Object.entries(results)) {
        assert.notEqual(v, 'no error thrown', k);
        if (/constructor|module|init: (?!host error)/.test(k) && v.startsWith('refused'))
          assert.ok(/EvalError|TypeError/.test(v), `${k}: ${v}`);
      }
      assert.equal(r.iterationsCompleted, 1);
      assert.equal(r.k6.exitCode, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('load/vu: guardGlobals (for a context made elsewhere, such as the plain-data reader)', () => {
  const PROBE = `(() => { const out = [];
    for (const f of [() => module.constructor.constructor('return process')(), () => require.constructor('return process')(),
      () => require('k6/http').get.constructor('return process')(), () => console.log.constructor('return process')(),
      () => __ENV.constructor.constructor('return process')()])
      try { out.push(typeof f().pid); } catch (e) { out.push(e.name); }
    module.exports.requests = [{ method: 'GET', url: '/x' }];
    return out.join(','); })()`;
  const make = () => {
    const module = { exports: {} as Record<string, unknown> };
    const sandbox = { module, exports: module.exports, __ENV: {}, console: { log() {} }, require: () => ({ get: () => ({}) }) };
    return { module, context: vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } }) };
  };

  it('without it every vector reaches process; with it none does, and the host still reads the exports', async () => {
    const { guardGlobals } = await import('../../src/load/vu/realm-guard.ts');
    const open = make();
    assert.equal(vm.runInContext(PROBE, open.context), 'number,number,number,number,number');
    const closed = make();
    guardGlobals(closed.context);
    assert.equal(vm.runInContext(PROBE, closed.context), 'EvalError,EvalError,EvalError,EvalError,EvalError');
    assert.equal((closed.module.exports.requests as unknown[]).length, 1);
  });
});

describe('load: the plain-data reader (a script with only exported data) does not hand the host to the script', () => {
  it('every vector at the top of a plain-data script fails; the scenario still reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-plain-escape-'));
    try {
      const file = path.join(dir, 'plain.js');
      // The outcome of each vector is put into the request's URL, the one thing the reader hands back.
      fs.writeFileSync(
        file,
        `import http from 'k6/http';
const tryIt = (f) => { try { return typeof f().pid; } catch (e) { return e.name; } };
const out = [tryIt(() => http.get.constructor('return process')()), tryIt(() => http.constructor.constructor('return process')()),
  tryIt(() => __ENV.constructor.constructor('return process')()), tryIt(() => console.log.constructor('return process')())];
export const requests = [{ method: 'GET', url: 'http://127.0.0.1:9/' + out.join('-') }];
export const options = { scenarios: { s: { executor: 'constant-arrival-rate', rate: 1, timeUnit: '1s', duration: '1s', preAllocatedVUs: 1 } } };
export default function () { for (const r of requests) http.request(r.method, r.url); }
`,
      );
      const sc = await readScenario(file, {});
      assert.equal(sc.vu, undefined, 'read by the plain-data reader, not the VU runtime');
      const url = JSON.stringify(sc);
      assert.ok(!url.includes('number'), `a vector reached the host: ${url.slice(0, 400)}`);
      assert.match(url, /EvalError-EvalError-EvalError-EvalError/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
