import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './run-cli.ts';
import { progressLine } from '../../src/load/progress.ts';

describe('load/cli: spillover load and spillover import k6', () => {
  it('load --plan prints one due time per iteration per scenario, in seconds, and sends nothing', async () => {
    const r = await cli([
      'load',
      '--scenario',
      'scenarios/peak-load.js',
      '--plan',
      '--time-scale',
      '0.1',
      '--env',
      'TARGET=http://192.0.2.1',
    ]);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { timeScale: number; scenarios: Array<{ scenario: string; times: number[] }> };
    assert.equal(plan.timeScale, 0.1);
    const peak = plan.scenarios.find((s) => s.scenario === 'peak')!;
    // Stage 1 is flat at 20/s for 1 s (scaled): the first iterations are one period (50 ms) apart, starting one period in.
    assert.deepEqual(peak.times.slice(0, 3), [0.05, 0.1, 0.15]);
    assert.ok(peak.times.every((t, i) => i === 0 || t >= peak.times[i - 1]));
    assert.ok(peak.times.at(-1)! < 12);
  });

  it('load <url> --rate --duration --plan is a constant-arrival-rate from t = 0', async () => {
    const r = await cli(['load', 'http://127.0.0.1:1/', '--rate', '4', '--duration', '1s', '--plan']);
    assert.deepEqual(JSON.parse(r.out).scenarios[0].times, [0, 0.25, 0.5, 0.75]);
  });

  it('bad input fails with the option named', async () => {
    const r = await cli(['load', 'http://127.0.0.1:1/', '--rate', '4', '--duration', 'soon', '--plan']);
    // The exit code is 2 from bin/spillover.js; in-process under mocha main() sees a second copy of
    // errors.ts (reported to the CLI owner), so only failure and message are asserted here.
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--duration: not a k6 duration/);
  });

  it('import k6 writes a run directory', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-import-'));
    const r = await cli(['import', 'k6', 'test/fixtures/k6/run.json', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /imported 3 requests, 1 dropped/);
    assert.ok(fs.existsSync(path.join(out, 'manifest.json')));
    assert.equal(fs.readFileSync(path.join(out, 'raw/requests.ndjson'), 'utf8').trim().split('\n').length, 3);
  });

  it('progress line shows target vs achieved, errors, dropped and elapsed/total', () => {
    const line = progressLine({ elapsed: 12, total: 120, target: 250, achieved: 248, errors: 3, dropped: 2, active: 40, allocated: 100 });
    for (const part of ['12s/120s', 'target 250/s', 'achieved 248/s', 'errors 3', 'dropped 2', 'vus 40/100'])
      assert.ok(line.includes(part), `${part} in ${line}`);
  });
});
