/**
 * The report's outputs read back through their contracts: a run's own summary.json and timeseries.csv
 * read as what analysis built, and damaged files refused with an error naming file, line and field.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../src/report/index.ts';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import { readSummary, SUMMARY_FILE, checkSummary } from '../../src/contracts/summary.ts';
import { readTimeseries, TIMESERIES_COLUMNS, TIMESERIES_FILE } from '../../src/contracts/timeseries.ts';
import { readRunSet } from '../../src/compare/run-set.ts';
import { SpilloverError } from '../../src/errors.ts';
import { writeSyntheticRun } from '../fixtures/runs/synthetic-run.ts';

const problemsOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SpilloverError, String(e));
    return e.problems;
  }
  assert.fail('no error');
};

describe('contracts: summary.json and timeseries.csv readers', function () {
  this.timeout(60000);
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-outputs-'));
    writeSyntheticRun(dir, { rps: 40, durationS: 20, ejectAtS: 6, ejectForS: 8 });
    await writeReport(dir, { png: false });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('read back what analysis built: the summary whole, every timeseries row and column', async () => {
    const { analysis } = await analyzeRun(dir);
    assert.deepEqual(readSummary(dir, { complete: true }), JSON.parse(JSON.stringify(analysis.summary)));
    const ts = readTimeseries(dir);
    assert.deepEqual(ts.columns, TIMESERIES_COLUMNS);
    assert.ok(ts.rows.length > 10);
    assert.deepEqual(ts.rows, JSON.parse(JSON.stringify(analysis.timeseries)));
  });

  it('a summary field of the wrong type names the file and the field path', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-outputs-'));
    try {
      const s = JSON.parse(fs.readFileSync(path.join(dir, SUMMARY_FILE), 'utf8'));
      s.events.firstEjectionS = '9.6';
      s.warnings = [1];
      fs.writeFileSync(path.join(d, SUMMARY_FILE), JSON.stringify(s));
      const p = problemsOf(() => readSummary(d));
      assert.deepEqual(
        p.map((x) => [x.path, x.expected, x.found]),
        [
          ['events.firstEjectionS', 'number|null', '"9.6"'],
          ['warnings', 'string[]', '[1]'],
        ],
      );
      assert.ok(p.every((x) => x.file?.endsWith(SUMMARY_FILE) && /spillover report/.test(x.fix ?? '')));
      // Through compare, the same error: compare reads run directories with this reader.
      assert.throws(() => readRunSet(d), /events\.firstEjectionS: a run summary field has the wrong type/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('an older summary may lack keys; a complete read (just written by this harness) may not', () => {
    const older = { experiment: 'x', runId: 'r1', events: { firstEjectionS: 3 } };
    assert.deepEqual(checkSummary(older, { file: 'f.json' }), older);
    const p = problemsOf(() => checkSummary(older, { file: 'f.json' }, { complete: true }));
    assert.ok(p.some((x) => x.path === 'events.recoveryS' && x.found === 'nothing'));
    assert.ok(p.some((x) => x.path === 'latencyMs' && x.expected === 'an object'));
    assert.equal(problemsOf(() => checkSummary([1], { file: 'f.json' }))[0].message, 'the run summary is not a JSON object');
  });

  it('a damaged timeseries names the file, line and column; a missing one says so', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-outputs-'));
    const put = (text: string) => fs.writeFileSync(path.join(d, TIMESERIES_FILE), text);
    try {
      assert.match(problemsOf(() => readTimeseries(d))[0].message, /no timeseries\.csv/);
      put('t_s,target_rps,p99_ms\n0,10,\n1,,3\n');
      assert.deepEqual(
        problemsOf(() => readTimeseries(d)).map((x) => [x.line, x.path, x.expected, x.found]),
        [[3, 'target_rps', 'a number', '""']],
      );
      put('t_s,p99_ms,extra\n0,,x\n1,2.5,y\n');
      assert.deepEqual(readTimeseries(d).rows, [
        { t_s: 0, p99_ms: null },
        { t_s: 1, p99_ms: 2.5 },
      ]);
      put('id,latency_ms\n1,2\n');
      assert.match(problemsOf(() => readTimeseries(d))[0].message, /no t_s column/);
      put('t_s,target_rps\n0,1\n1,2,3\n');
      const p = problemsOf(() => readTimeseries(d))[0];
      assert.equal(p.file?.endsWith(TIMESERIES_FILE), true);
      assert.equal(p.line, 3);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('the committed baseline passes the summary check', () => {
    const set = readRunSet(path.join(import.meta.dirname, '../../results/baselines/peak-load'));
    assert.ok(set.runs.length > 0);
  });
});
