/**
 * Every shipped experiment (experiments/**\/*.yaml) loads, validates and dry-runs on the local
 * backend, and its manifest records the effective durations the run would use (issue 12: "a test
 * that validates and dry-runs every shipped experiments/*.yaml"; floors recorded in the manifest).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunManifest } from '../../src/contracts/raw.ts';
import { SCRAPE_INTERVAL_FLOOR_MS } from '../../src/experiment/normalise.ts';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';

const shipped = (fs.readdirSync('experiments', { recursive: true }) as string[])
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join('experiments', f))
  .sort();

describe('experiments: every shipped file validates and dry-runs', () => {
  let out: string;
  before(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-shipped-'));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('finds the shipped experiments, in both folders', () => {
    assert.ok(shipped.length >= 6, shipped.join(', '));
    assert.ok(shipped.some((f) => f.includes('istio-tasks')));
  });

  for (const file of shipped) {
    it(`${file}: loads, dry-runs (exit 0) and records effective timing in manifest.json`, async function () {
      this.timeout(60_000);
      const exp = readExperiment(file);
      const res = await runExperiment({
        experimentFile: file,
        dryRun: true,
        outDir: path.join(out, path.basename(file, '.yaml')),
        quiet: true,
      });
      assert.equal(res.exitCode, 0);
      const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8')) as RunManifest;
      assert.deepEqual(manifest.effective?.scrape, exp.timing.scrape);
      assert.equal(manifest.effective?.faults.length, exp.spec.faults.length);
    });
  }

  it('a scrape interval under the floor is recorded as asked and as used, with a warning', async () => {
    const res = await runExperiment({
      experimentFile: 'experiments/peak-load.yaml',
      set: ['scrape.interval=10ms'],
      dryRun: true,
      outDir: path.join(out, 'floor'),
      quiet: true,
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8')) as RunManifest;
    assert.deepEqual(
      {
        asked: manifest.effective?.scrape.requestedIntervalMs,
        used: manifest.effective?.scrape.intervalMs,
        floor: manifest.effective?.scrape.floorMs,
      },
      { asked: 10, used: SCRAPE_INTERVAL_FLOOR_MS, floor: SCRAPE_INTERVAL_FLOOR_MS },
    );
    assert.ok(
      manifest.warnings.some((w) => /scrape\.interval 10ms .*floor.* 50 ms/.test(w)),
      manifest.warnings.join('\n'),
    );
  });

  it('a time-scaled run records the scaled fault times and push defaults', async () => {
    const res = await runExperiment({
      experimentFile: 'experiments/endpoint-updates.yaml',
      timeScale: 0.5,
      dryRun: true,
      outDir: path.join(out, 'scaled'),
      quiet: true,
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(res.runDir, 'manifest.json'), 'utf8')) as RunManifest;
    const one = readExperiment('experiments/endpoint-updates.yaml');
    assert.deepEqual(
      manifest.effective?.faults.map((f) => f.atMs),
      one.timing.faults.map((f) => f.atMs * 0.5),
    );
    assert.equal(manifest.effective?.push.debounceMs, one.timing.push.debounceMs * 0.5);
  });
});
