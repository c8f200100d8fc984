/**
 * `expect:` is parsed and validated when the experiment loads (issue 12, item 3): a bad condition is a
 * load-time error naming file, line, field, expected, found and fix, before anything starts -- and the
 * parsed form is what the run's judge checks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSpilloverError } from '../../src/errors.ts';
import { readExperiment } from '../../src/experiment/read-experiment.ts';
import { cli } from '../load/run-cli.ts';

describe('experiment: expect: parsed at load', () => {
  let tmp: string;
  let file: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spillover-expect-'));
    const text = fs.readFileSync('experiments/peak-load.yaml', 'utf8').replace('../scenarios/', `${path.resolve('scenarios')}/`);
    file = path.join(tmp, 'bad-expect.yaml');
    // peak-load's own block, with one condition that is not one.
    assert.match(text, /events\.firstEjectionS: \["!= null"\]/);
    fs.writeFileSync(file, text.replace('events.firstEjectionS: ["!= null"]', 'events.firstEjectionS: ["sooner than 5"]'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('readExperiment refuses a bad condition with its file, line, field, expected, found and fix', () => {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('sooner than 5')) + 1;
    assert.throws(
      () => readExperiment(file),
      (e: unknown) => {
        assert.ok(isSpilloverError(e));
        const [p] = e.problems;
        assert.equal(e.problems.length, 1);
        assert.equal(p.path, 'expect.events.firstEjectionS[0]');
        assert.equal(p.line, line);
        assert.match(p.file ?? '', /bad-expect\.yaml$/);
        assert.match(p.expected ?? '', /operator/);
        assert.equal(p.found, '"sooner than 5"');
        assert.ok(p.fix);
        return true;
      },
    );
  });

  it('a good block comes back parsed, in the file order, for judge and compare', () => {
    const exp = readExperiment('experiments/peak-load.yaml', { set: ['expect={"latencyMs.p99":["< 60", "!= null"]}'] });
    assert.deepEqual(exp.expect, [
      {
        field: 'latencyMs.p99',
        conditions: [
          { text: '< 60', op: '<', value: 60 },
          { text: '!= null', op: '!=', value: null },
        ],
      },
    ]);
  });

  it('run and validate exit 2 and leave no run directory; a --set condition is blamed on the flag', async () => {
    const out = path.join(tmp, 'results');
    const r = await cli(['run', file, '--dry-run', '--out', out]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /expect\.events\.firstEjectionS\[0\]/);
    assert.equal(fs.existsSync(out), false, 'no run directory');
    const v = await cli(['validate', 'experiments/peak-load.yaml', '--set', 'expect={"redirectedFraction":[">= lots"]}']);
    assert.equal(v.code, 2, v.err);
    assert.match(v.err, /--set expect=/);
    assert.match(v.err, /">= lots"/);
  });
});
