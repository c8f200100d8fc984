/**
 * An experiment whose scenario is a k6 script with logic: the same embedded engine (the VU runtime)
 * runs it, Spillover's raw results are written as for any scenario, and k6's thresholds decide 0/99.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/orchestrate/run.ts';

describe('run: an experiment with a real k6 script as its scenario (time scale 0.05)', function () {
  this.timeout(180_000);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-k6-run-'));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs the script per iteration through the mesh, records who served, and evaluates its thresholds', async () => {
    const logs: string[] = [];
    const res = await runExperiment({
      experimentFile: 'experiments/peak-load.yaml',
      timeScale: 0.05,
      outDir: out,
      log: (m) => logs.push(m),
      set: [`load.scenario=${path.resolve('test/fixtures/k6-vu/experiment-peak.js')}`],
    });
    assert.equal(res.exitCode, 0, logs.join('\n'));
    const reqs = fs
      .readFileSync(path.join(res.runDir, 'raw/requests.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(reqs.length > 100);
    assert.ok(
      reqs.some((r) => r.service === 'B'),
      'B served some requests',
    );
    assert.ok(reqs.every((r) => r.intended <= r.sent));
    const text = logs.join('\n');
    assert.match(text, /✓ served_by_b\.+: \d+/);
    assert.match(text, /█ work/);
  });
});
