import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { planRerun, diffPaths } from '../../src/cli/commands/rerun.ts';
import { runExperiment } from '../../src/orchestrate/run.ts';
import { main } from '../../src/cli/main.ts';
import { tmpDir } from './fixtures.ts';

const C5XX = 'resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors=5';

describe('rerun: a run repeated from its manifest', () => {
  let root: string;
  let experimentFile: string;
  let scenarioFile: string;
  beforeEach(() => {
    root = tmpDir();
    // A private copy of the experiment and its scenario, so the test can change them.
    fs.mkdirSync(path.join(root, 'experiments'));
    fs.mkdirSync(path.join(root, 'scenarios'));
    experimentFile = path.join(root, 'experiments', 'peak-load.yaml');
    scenarioFile = path.join(root, 'scenarios', 'peak-load.js');
    fs.copyFileSync('experiments/peak-load.yaml', experimentFile);
    fs.copyFileSync('scenarios/peak-load.js', scenarioFile);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const dryRun = async () =>
    (await runExperiment({ experimentFile, set: [C5XX], timeScale: 0.1, dryRun: true, outDir: path.join(root, 'results'), quiet: true }))
      .runDir;

  it('takes experiment, overrides, time scale and backend from the manifest; nothing drifted', async () => {
    const plan = await planRerun(await dryRun());
    assert.equal(plan.experimentFile, experimentFile);
    assert.deepEqual(plan.set, ['resources[1].spec.trafficPolicy.outlierDetection.consecutive5xxErrors=5']);
    assert.equal(plan.timeScale, 0.1);
    assert.equal(plan.backend, 'local');
    assert.deepEqual(plan.drift, []);
  });

  it('names what changed in the experiment and the scenario since the run, and the CLI refuses', async () => {
    const runDir = await dryRun();
    fs.writeFileSync(experimentFile, fs.readFileSync(experimentFile, 'utf8').replace('concurrency: 4', 'concurrency: 2'));
    fs.appendFileSync(scenarioFile, '\n// changed\n');
    const plan = await planRerun(runDir);
    assert.equal(plan.drift.length, 2);
    assert.equal(plan.drift[0], 'experiment services.A.capacity.concurrency: 4 then, 2 now');
    assert.match(plan.drift[1], /^scenario \S*peak-load\.js changed since the run \(sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\)$/);
    const errWrite = process.stderr.write;
    let err = '';
    process.stderr.write = ((t: string) => ((err += t), true)) as typeof process.stderr.write;
    try {
      assert.equal(await main(['node', 'spillover', 'rerun', runDir]), 2);
    } finally {
      process.stderr.write = errWrite;
      process.exitCode = undefined;
    }
    assert.match(err, /cannot be repeated as it was: 2 things changed/);
    assert.match(err, /--allow-changed/);
  });

  it('a directory that is not a run is an error with a fix', async () => {
    await assert.rejects(planRerun(root), /no run manifest here[\s\S]*fix:/);
  });

  it('diffPaths lists leaf differences with their paths', () => {
    assert.deepEqual(diffPaths({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1, d: 'x' }), [
      'a.b[1]: 2 then, 3 now',
      'd: nothing then, "x" now',
    ]);
  });
});
