import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { formatPlan, planSweep, splitValues } from '../../src/sweep/plan.ts';
import { runSweep, type Runner } from '../../src/sweep/run-sweep.ts';
import { readRunSet } from '../../src/compare/run-set.ts';
import { summaryFor, tmpDir } from '../compare/fixtures.ts';

const C5XX = 'resources.DestinationRule/a.spec.trafficPolicy.outlierDetection.consecutive5xxErrors';
const CONC = 'services.A.capacity.concurrency';
const EXPERIMENT = path.resolve('experiments/peak-load.yaml');

/** Stands in for runExperiment: a summary whose ejection time depends on the overrides, as a model would. */
function fakeRunner(calls: string[][]): Runner {
  return async (o) => {
    calls.push(o.set);
    const get = (p: string) => Number(o.set.find((s) => s.startsWith(`${p}=`))?.split('=')[1]);
    const c5 = get(C5XX);
    const conc = get(CONC) || 4;
    const runIdx = Number(o.runId.slice(1));
    const runDir = path.join(o.outDir, o.runId);
    fs.mkdirSync(runDir, { recursive: true });
    // With 5 consecutive errors A is never ejected at the lower capacity; otherwise later for more errors and capacity.
    const ejection = c5 === 5 && conc === 4 ? null : c5 * 2 + conc + runIdx * 0.1;
    fs.writeFileSync(
      path.join(runDir, 'summary.json'),
      JSON.stringify(summaryFor('peak-load', o.runId, { firstEjectionS: ejection, redirectedFraction: ejection === null ? 0 : 0.3 / c5 })),
    );
    return { runDir, exitCode: 0 };
  };
}

describe('sweep: plan', () => {
  it('splits values on top-level commas only', () => {
    assert.deepEqual(splitValues('1, 2,5'), ['1', '2', '5']);
    assert.deepEqual(splitValues('[a,b],{x: 1, y: 2},"p,q"'), ['[a,b]', '{x: 1, y: 2}', '"p,q"']);
  });

  it('is the cartesian product, first axis slowest; one value is a fixed override', () => {
    const plan = planSweep([`${C5XX}=1,5`, `${CONC}=2,4,8`, 'seed=7']);
    assert.deepEqual(
      plan.axes.map((a) => [a.label, a.values]),
      [
        ['consecutive5xxErrors', ['1', '5']],
        ['concurrency', ['2', '4', '8']],
      ],
    );
    assert.deepEqual(plan.fixed, ['seed=7']);
    assert.equal(plan.points.length, 6);
    assert.deepEqual(
      plan.points.map((p) => Object.values(p.values).join('/')),
      ['1/2', '1/4', '1/8', '5/2', '5/4', '5/8'],
    );
    assert.deepEqual(plan.points[4].sets, ['seed=7', `${C5XX}=5`, `${CONC}=4`]);
    assert.equal(plan.points[4].id, 'p05_consecutive5xxErrors-5_concurrency-4');
    assert.match(formatPlan(plan, 3), /= 6 points × 3 repeats = 18 runs/);
  });

  it('refuses a sweep with nothing to sweep, a field set twice, an empty or duplicated value', () => {
    assert.throws(() => planSweep(['seed=1']), /nothing to sweep/);
    assert.throws(() => planSweep([`${CONC}=1,2`, `${CONC}=3`]), /set twice/);
    assert.throws(() => planSweep([`${CONC}=1,,2`]), /empty value/);
    assert.throws(() => planSweep([`${CONC}=1,2,1`]), /listed twice/);
    assert.throws(() => planSweep(['concurrency']), /not of the form/);
  });
});

describe('sweep: run', () => {
  let root: string;
  beforeEach(() => (root = tmpDir()));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('checks every point before running any, naming the bad point', async () => {
    const calls: string[][] = [];
    await assert.rejects(
      runSweep({ experimentFile: EXPERIMENT, set: [`${CONC}=2,zero`], runner: fakeRunner(calls), outDir: root, log: () => {} }),
      /sweep point p02_concurrency-zero/,
    );
    assert.equal(calls.length, 0);
  });

  it('a dry run plans and validates but runs and writes nothing', async () => {
    const calls: string[][] = [];
    const res = await runSweep({
      experimentFile: EXPERIMENT,
      set: [`${C5XX}=1,5`],
      repeat: 2,
      dryRun: true,
      runner: fakeRunner(calls),
      outDir: root,
      log: () => {},
    });
    assert.equal(res.points.length, 0);
    assert.equal(res.plan.points.length, 2);
    assert.equal(calls.length, 0);
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('runs every point with repeats and writes the table, CSV and figures', async () => {
    const calls: string[][] = [];
    const res = await runSweep({
      experimentFile: EXPERIMENT,
      set: [`${C5XX}=1,5`, `${CONC}=2,4`],
      repeat: 3,
      runner: fakeRunner(calls),
      outDir: root,
      sweepId: 's',
      log: () => {},
      svg: false,
    });
    assert.equal(res.exitCode, 0);
    assert.equal(calls.length, 12);
    const dir = path.join(root, 's');
    const rows = parse(fs.readFileSync(path.join(dir, 'sweep.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => [r.consecutive5xxErrors, r.concurrency, r['events.firstEjectionS.mean'], r['events.firstEjectionS.runs_with']]),
      [
        ['1', '2', '4.2', '3'],
        ['1', '4', '6.2', '3'],
        ['5', '2', '12.2', '3'],
        ['5', '4', '', '0'],
      ],
    );
    const md = fs.readFileSync(path.join(dir, 'sweep.md'), 'utf8');
    assert.match(md, /\| 5 +\| 4 +\| 3\/3 +\| never \(0\/3\)/);
    const heat = JSON.parse(fs.readFileSync(path.join(dir, 'figures', 'time-to-redirect.vl.json'), 'utf8'));
    assert.deepEqual(
      heat.layer.map((l: { mark: { type: string } }) => l.mark.type),
      ['rect', 'rect', 'text'],
    );
    assert.equal(heat.data.values.length, 4);
    // Each point directory is a set of repeats that compare reads as it is.
    const point = readRunSet(path.join(dir, res.points[0].dir));
    assert.equal(point.kind, 'repeats');
    assert.equal(point.runs.length, 3);
  });

  it('a single axis gives a line with intervals, rendered to SVG and PNG', async () => {
    const res = await runSweep({
      experimentFile: EXPERIMENT,
      set: [`${C5XX}=1,2,5`],
      repeat: 2,
      runner: fakeRunner([]),
      outDir: root,
      sweepId: 's',
      log: () => {},
    });
    const spec = JSON.parse(fs.readFileSync(path.join(root, 's', 'figures', 'first-ejection.vl.json'), 'utf8'));
    assert.deepEqual(
      spec.layer.map((l: { mark: { type: string } }) => l.mark.type),
      ['rule', 'line'],
    );
    assert.match(fs.readFileSync(path.join(root, 's', 'figures', 'first-ejection.svg'), 'utf8'), /^<svg/);
    const png = fs.readFileSync(path.join(root, 's', 'figures', 'first-ejection.png'));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    const svgWidth = Number(/width="(\d+)"/.exec(fs.readFileSync(path.join(root, 's', 'figures', 'first-ejection.svg'), 'utf8'))![1]);
    assert.equal(png.readUInt32BE(16), svgWidth * 2, 'rendered from the SVG at 2x');
    assert.equal(res.points.length, 3);
  });

  it('a failing run is recorded and the sweep goes on, exiting 1', async () => {
    const good = fakeRunner([]);
    let n = 0;
    const flaky: Runner = async (o) => {
      if (++n === 2) throw new Error('backend did not come up');
      return good(o);
    };
    const res = await runSweep({
      experimentFile: EXPERIMENT,
      set: [`${C5XX}=1,2`],
      repeat: 2,
      runner: flaky,
      outDir: root,
      sweepId: 's',
      log: () => {},
      svg: false,
    });
    assert.equal(res.exitCode, 1);
    assert.deepEqual(
      res.points.map((p) => [p.runs, p.failed, p.aggregate?.n]),
      [
        [2, 1, 1],
        [2, 0, 2],
      ],
    );
  });

  it('stops between runs when interrupted', async () => {
    const controller = new AbortController();
    const good = fakeRunner([]);
    let n = 0;
    const res = await runSweep({
      experimentFile: EXPERIMENT,
      set: [`${C5XX}=1,2,5`],
      repeat: 2,
      runner: async (o) => {
        if (++n === 3) controller.abort('SIGINT');
        return good(o);
      },
      signal: controller.signal,
      outDir: root,
      sweepId: 's',
      log: () => {},
      svg: false,
    });
    assert.equal(n, 3);
    assert.equal(res.exitCode, 130);
    assert.equal(res.points.length, 2);
    assert.ok(fs.existsSync(path.join(root, 's', 'sweep.csv')));
  });
});
