import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readScenario } from '../../src/load/scenario.ts';
import { SpilloverError } from '../../src/errors.ts';
import type { RampingArrivalRate } from '../../src/load/types.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-scenario-'));
let n = 0;
const script = (body: string) => {
  const f = path.join(dir, `s${n++}.js`);
  fs.writeFileSync(f, body);
  return f;
};
const LOOP = `export default function () { for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers }); }`;
const withOptions = (options: string, extra = '') =>
  script(`import http from 'k6/http';
${extra}
export const requests = [{ method: 'GET', url: 'http://127.0.0.1:8080/work' }];
export const options = ${options};
${LOOP}
`);
/** Assert a SpilloverError with a problem at `pathPart` whose text matches `re`. */
async function rejectsAt(p: Promise<unknown>, pathPart: string, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SpilloverError, `not a SpilloverError: ${e}`);
    const hit = e.problems.find((pr) => (pr.path ?? '').includes(pathPart));
    assert.ok(hit, `no problem at ${pathPart}: ${e.message}`);
    assert.match(`${hit.message} ${hit.fix ?? ''} ${hit.expected ?? ''}`, re);
    assert.ok(hit.file?.endsWith('.js') || hit.file === undefined);
    return true;
  });
}

describe('load/scenario: k6 scripts evaluated in isolation and validated with k6 rules', () => {
  it('loads scenarios/peak-load.js with __ENV and returns typed seconds', async () => {
    const sc = await readScenario('scenarios/peak-load.js', { env: { TARGET: 'http://127.0.0.1:9999' } });
    const peak = sc.scenarios[0] as RampingArrivalRate;
    assert.equal(peak.executor, 'ramping-arrival-rate');
    assert.equal(peak.requests[0].url, 'http://127.0.0.1:9999/work');
    assert.deepEqual(peak.requests[0].headers, { 'x-spillover-scenario': 'peak' });
    assert.equal(peak.gracefulStop, 5);
    assert.equal(
      peak.stages.reduce((a, s) => a + s.duration, 0),
      120,
    );
  });

  it('time scale multiplies every duration but not timeUnit', async () => {
    const f = withOptions(
      `{ scenarios: { s: { executor: 'ramping-arrival-rate', startRate: 5, timeUnit: '2s', preAllocatedVUs: 1, startTime: '10s', gracefulStop: '4s', stages: [{ duration: '1m', target: 10 }] } } }`,
    );
    const sc = (await readScenario(f, { timeScale: 0.1 })).scenarios[0] as RampingArrivalRate;
    assert.deepEqual(
      [sc.startTime, sc.gracefulStop, sc.stages[0].duration, sc.timeUnit, sc.startRate, sc.stages[0].target],
      [1, 0.4, 6, 2, 5, 10],
    );
    await assert.rejects(readScenario(f, { timeScale: 1.5 }), /0 < F <= 1/);
  });

  it('names the option path of a bad duration', async () => {
    const f = withOptions(
      `{ scenarios: { peak: { executor: 'ramping-arrival-rate', preAllocatedVUs: 1, stages: [{ duration: '1s', target: 1 }, { duration: '10 seconds', target: 2 }] } } }`,
    );
    await rejectsAt(readScenario(f), 'options.scenarios.peak.stages[1].duration', /k6 duration/);
  });

  it('runs executors, options and logic beyond plain data in the k6-compatible VU runtime (no longer refused)', async () => {
    const vu = async (f: string) => assert.ok((await readScenario(f)).vu, f);
    await vu(withOptions(`{ scenarios: { a: { executor: 'shared-iterations', vus: 1, iterations: 10 } } }`));
    await vu(withOptions(`{ iterations: 10 }`));
    await vu(withOptions(`{ hosts: { 'a': '1.2.3.4' }, vus: 1, duration: '1s' }`));
    await vu(
      script(`import http from 'k6/http'; import { sleep } from 'k6';
export const requests = [{ method: 'GET', url: 'http://127.0.0.1/' }];
export const options = { vus: 1, duration: '1s' };
export default function () { for (const r of requests) http.request(r.method, r.url); sleep(1); }`),
    );
    await vu(
      script(`import http from 'k6/http';
export const requests = [{ method: 'GET', url: 'http://127.0.0.1/' }];
export const options = { vus: 1, duration: '1s' };
export default function () { if (__ITER % 2 === 0) http.get(requests[0].url); }`),
    );
    await vu(
      script(`import http from 'k6/http';
export const requests = [{ method: 'GET', url: 'http://127.0.0.1/a' }];
export const options = { vus: 1, duration: '1s' };
export default function () { http.get('http://127.0.0.1/b'); }`),
    );
    // k6-utils is built in; a remote module that is not is refused at its import line.
    await vu(
      script(`import http from 'k6/http'; import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';
export const options = { vus: 1, duration: '1s' };
export default function () { http.get('http://127.0.0.1/' + uuidv4()); }`),
    );
    await assert.rejects(
      readScenario(script(`import x from 'https://example.com/x.js';\nexport default function () { x(); }`)),
      /remote module https:\/\/example\.com\/x\.js[\s\S]*vendor it/,
    );
  });

  it("applies k6's field rules: required, ranges, maxVUs >= preAllocatedVUs, unknown fields, names", async () => {
    await rejectsAt(
      readScenario(
        withOptions(`{ scenarios: { c: { executor: 'constant-arrival-rate', rate: 10, duration: '500ms', preAllocatedVUs: 1 } } }`),
      ),
      'options.scenarios.c.duration',
      /at least 1s/,
    );
    await rejectsAt(
      readScenario(
        withOptions(`{ scenarios: { c: { executor: 'constant-arrival-rate', rate: 2.5, duration: '1s', preAllocatedVUs: 1 } } }`),
      ),
      'options.scenarios.c.rate',
      /integer/,
    );
    await rejectsAt(
      readScenario(withOptions(`{ scenarios: { c: { executor: 'constant-arrival-rate', rate: 1, duration: '1s' } } }`)),
      'options.scenarios.c.preAllocatedVUs',
      /required/,
    );
    await rejectsAt(
      readScenario(
        withOptions(`{ scenarios: { c: { executor: 'constant-arrival-rate', rate: 1, duration: '1s', preAllocatedVUs: 5, maxVUs: 2 } } }`),
      ),
      'options.scenarios.c.maxVUs',
      /smaller/,
    );
    await rejectsAt(
      readScenario(withOptions(`{ scenarios: { c: { executor: 'constant-vus', vus: 1, duration: '1s', rate: 3 } } }`)),
      'options.scenarios.c.rate',
      /unknown field/,
    );
    await rejectsAt(
      readScenario(withOptions(`{ scenarios: { 'a b': { executor: 'constant-vus', duration: '1s' } } }`)),
      'options.scenarios.a b',
      /invalid scenario name/,
    );
    await rejectsAt(
      readScenario(withOptions(`{ scenarios: { c: { executor: 'constant-vus', duration: '1s', exec: 'nope' } } }`)),
      'options.scenarios.c.exec',
      /does not export/,
    );
  });

  it('reports every problem at once', async () => {
    const f = withOptions(`{ scenarios: { a: { executor: 'constant-vus' }, b: { executor: 'ramping-vus', stages: [] } } }`);
    await assert.rejects(readScenario(f), (e: unknown) => e instanceof SpilloverError && e.problems.length >= 2);
  });

  it('expands k6 shortcuts and sorts scenarios by (startTime, name); thresholds are evaluated (VU runtime)', async () => {
    const sc = await readScenario(
      withOptions(`{ stages: [{ duration: '2s', target: 3 }], thresholds: { http_req_duration: ['p(95)<500'] } }`),
    );
    assert.equal(sc.scenarios[0].name, 'default');
    assert.equal(sc.scenarios[0].executor, 'ramping-vus');
    assert.ok(sc.vu);
    assert.deepEqual(sc.vu.options.thresholds, { http_req_duration: ['p(95)<500'] });
    const multi = await readScenario(
      withOptions(`{ scenarios: {
      z: { executor: 'constant-vus', duration: '1s' },
      b: { executor: 'constant-vus', duration: '1s', startTime: '2s' },
      a: { executor: 'constant-vus', duration: '1s', startTime: '2s' } } }`),
    );
    assert.deepEqual(
      multi.scenarios.map((s) => s.name),
      ['z', 'a', 'b'],
    );
  });

  it('isolates the script: no Node APIs, no network, a time limit', async () => {
    const net = script(`import http from 'k6/http';
export const requests = [{ method: 'GET', url: 'http://127.0.0.1/' }];
export const options = { vus: 1, duration: '1s' };
fetch('http://127.0.0.1/');
${LOOP}`);
    await assert.rejects(readScenario(net), /evaluating the script failed[\s\S]*fetch is not defined/);
    const proc = script(`export const options = { x: process.exit(3) };`);
    await assert.rejects(readScenario(proc), /process is not defined/);
    const spin = script(`while (true) {}`);
    await assert.rejects(readScenario(spin, { evalTimeoutMs: 100 }), /timed out/);
    const evil = script(`export const options = eval('1');`);
    await assert.rejects(readScenario(evil), /evaluating the script failed/);
  });

  it('per-scenario env reaches the exec function', async () => {
    const f = script(`import http from 'k6/http';
export const requests = [{ method: 'GET', url: 'http://127.0.0.1/a' }];
export const options = { scenarios: { s: { executor: 'constant-vus', duration: '1s', env: { P: 'a' } } } };
export default function () { http.get('http://127.0.0.1/' + __ENV.P); }`);
    const sc = await readScenario(f);
    assert.deepEqual(sc.scenarios[0].env, { P: 'a' });
  });
});
